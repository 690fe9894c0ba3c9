import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LatencyVolume, mountLatencyVolume, volumeUnavailable } from '../../../bench/rig/volume.ts';

// Needs root, /dev/fuse, cc and libfuse3-dev: where any is missing the rig skips its volume rows,
// and so does this test (with the same reason).
const why = volumeUnavailable();

describe.skipIf(why !== undefined)(`latency FUSE volume (bench rig)${why ? `: ${why}` : ''}`, () => {
  let root: string;
  let volume: LatencyVolume;
  const MS = 50;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'sluice-latfs-'));
    const source = join(root, 'src');
    await mkdir(source);
    for (let i = 0; i < 20; i++) await writeFile(join(source, `f${i}`), `file ${i}\n`);
    volume = await mountLatencyVolume(root, source, MS);
  }, 120_000);
  afterAll(async () => {
    await volume?.down();
    await rm(root, { recursive: true, force: true });
  });

  it('serves the source directory unchanged', async () => {
    expect(await readFile(join(volume.mount, 'f7'), 'utf8')).toBe('file 7\n');
  });

  it('makes every request wait, and lets requests in one directory wait in parallel', async () => {
    let t0 = performance.now();
    await stat(join(volume.mount, 'f1'));
    expect(performance.now() - t0).toBeGreaterThanOrEqual(MS * 0.9);
    // 19 lookups in one directory: ~19 x 50 ms one after the other, a few rounds of libuv's 4
    // threads when the kernel sends them in parallel.
    t0 = performance.now();
    await Promise.all(Array.from({ length: 19 }, (_, i) => stat(join(volume.mount, `f${i === 1 ? 19 : i}`))));
    expect(performance.now() - t0).toBeLessThan(19 * MS * 0.7);
  });

  it('counts the requests it served, written at unmount', async () => {
    await volume.remount();
    expect(volume.lastStats()).toMatch(/getattr \d+/);
    expect(volume.lastStats()).toMatch(/max_in_flight [2-9]|max_in_flight \d\d/);
  });
});
