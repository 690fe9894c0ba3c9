import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { isLocalFileSystem } from '../../../shared/io/local-file-system.ts';

describe('isLocalFileSystem', () => {
  it('says yes for /dev/shm (tmpfs) on Linux, no elsewhere and for paths it cannot stat', async () => {
    if (process.platform === 'linux') expect(await isLocalFileSystem('/dev/shm')).toBe(true);
    expect(await isLocalFileSystem(tmpdir(), 'darwin')).toBe(false);
    expect(await isLocalFileSystem('/no/such/dir')).toBe(false);
    // /proc is no file system to write to: not on the list.
    if (process.platform === 'linux') expect(await isLocalFileSystem('/proc')).toBe(false);
  });
});
