// What makes the embedded state survive a power cut (issue 11 item 7): SQLite syncs the WAL at
// every commit (synchronous=FULL) unless asked for NORMAL, and a blob is complete on disk, under
// its final name, before put() resolves (and so before any row references it).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { LocalEngine, synchronousFromEnv } from '../../../shared/runtime/embedded/local-engine.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-durability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function synchronousOf(home: string, opts: { synchronous?: 'full' | 'normal' } = {}) {
  const engine = await LocalEngine.open({ home, runner: new InlineRunner(new Map()), ...opts });
  try {
    return engine.db.pragma('synchronous', { simple: true });
  } finally {
    await engine.close();
  }
}

describe('SQLite synchronous', () => {
  it('is FULL (2) by default, NORMAL (1) when asked', async () => {
    expect(await synchronousOf(join(dir, 'a'))).toBe(2);
    expect(await synchronousOf(join(dir, 'b'), { synchronous: 'normal' })).toBe(1);
  });

  it('$SLUICE_SQLITE_SYNCHRONOUS chooses it; a bad value is a one-line error naming the variable', () => {
    expect(synchronousFromEnv({})).toBe('full');
    expect(synchronousFromEnv({ SLUICE_SQLITE_SYNCHRONOUS: 'NORMAL' })).toBe('normal');
    expect(() => synchronousFromEnv({ SLUICE_SQLITE_SYNCHRONOUS: 'off' })).toThrow(
      'SLUICE_SQLITE_SYNCHRONOUS must be full or normal, not "off"',
    );
  });
});

describe('FileBlobStore.put', () => {
  it('leaves the whole blob under its final name, in new nested directories, and no temp file', async () => {
    const blobs = new FileBlobStore(join(dir, 'blobs'));
    const data = Buffer.alloc(200_000, 7);
    await blobs.put('ab/cd/key-1', data);
    expect(readFileSync(join(dir, 'blobs', 'ab', 'cd', 'key-1')).equals(data)).toBe(true);
    expect(readdirSync(join(dir, 'blobs', 'ab', 'cd'))).toEqual(['key-1']);
    expect((await blobs.get('ab/cd/key-1')).length).toBe(200_000);
  });
});
