// TarExtractor over pooled input blocks (the lz4 path): a block goes back to the pool when the
// decoder moves past it unless the extractor still holds a view of it, so the decoder's next block
// must never overwrite bytes the extractor has not written yet.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockRecycler } from '../../../../shared/io/fetch/block-recycler.ts';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';
import { TarExtractor } from '../../../../shared/io/fetch/tar/extractor.ts';

const BLOCK = 64 * 1024;
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-recycler-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function bytes(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 17 + (i >> 9)) & 255;
  return b;
}

/** Feeds `tar` the way the lz4 decoder does: each block from the pool, held while it is consumed. */
async function extractPooled(tar: Buffer, dest: string): Promise<void> {
  const recycler = new BlockRecycler(BLOCK);
  const extractor = new TarExtractor({
    dest,
    stripComponents: 0,
    overwrite: false,
    preservePermissions: false,
    writeWorkers: 4,
    maxPendingBytes: 8 * 1024 * 1024,
    warn: () => {},
    recycler,
  });
  for (let off = 0; off < tar.length; off += BLOCK) {
    // The next block is decoded into whatever the pool hands out: a block still in use would be
    // overwritten here.
    const block = Buffer.from(recycler.take());
    const n = tar.copy(block, 0, off, off + BLOCK);
    recycler.hold(block.buffer);
    await extractor.write(block.subarray(0, n));
    recycler.drop(block.buffer);
  }
  await extractor.finish();
}

describe('TarExtractor with pooled blocks', () => {
  it('a small file that spans two blocks is written intact', async () => {
    const src = path.join(work, 'src');
    await mkdir(src, { recursive: true });
    // a (60416 bytes) ends so that b starts 4 KiB before the first block boundary and ends after it.
    const a = bytes(60416, 1);
    const b = bytes(10000, 2);
    const c = bytes(300 * 1024, 3); // large: streamed by a concurrent writer, held until written
    await writeFile(path.join(src, 'a'), a);
    await writeFile(path.join(src, 'b'), b);
    await writeFile(path.join(src, 'c'), c);
    const tar = execFileSync('tar', ['-c', '--format=ustar', '-C', src, 'a', 'b', 'c']);
    expect(tar.indexOf(b.subarray(0, 64))).toBeLessThan(BLOCK);
    const dest = path.join(work, 'out');
    await extractPooled(tar, dest);
    expect((await readFile(path.join(dest, 'a'))).equals(a)).toBe(true);
    expect((await readFile(path.join(dest, 'b'))).equals(b)).toBe(true);
    expect((await readFile(path.join(dest, 'c'))).equals(c)).toBe(true);
  });
});

describe('fetchArchive over pooled lz4 blocks', () => {
  it('a tar.lz4 made of a tiny first frame and a second one extracts intact', async () => {
    // The sniffing step reads decoded bytes until it has a tar header (512): here that takes two
    // decoded blocks, and the first must not be recycled while it still holds the head.
    const src = path.join(work, 'src2');
    await mkdir(src, { recursive: true });
    const files = [bytes(5000, 4), bytes(70_000, 5), bytes(123, 6)];
    for (const [i, f] of files.entries()) await writeFile(path.join(src, `f${i}`), f);
    const tar = execFileSync('tar', ['-c', '--format=ustar', '-C', src, 'f0', 'f1', 'f2']);
    // One stored block in a frame that declares 4 MiB blocks, the pooled size (the lz4 CLI picks
    // smaller blocks for small inputs): magic, FLG (v1, independent blocks), BD (4 MiB), HC.
    const lz4 = (b: Buffer) => {
      const size = Buffer.alloc(4);
      size.writeUInt32LE((b.length | 0x80000000) >>> 0);
      return Buffer.concat([
        Buffer.from([0x04, 0x22, 0x4d, 0x18, 0x60, 0x70, 0x73]),
        size,
        b,
        Buffer.alloc(4),
      ]);
    };
    const archive = path.join(work, 'split.tar.lz4');
    await writeFile(archive, Buffer.concat([lz4(tar.subarray(0, 100)), lz4(tar.subarray(100))]));
    const dest = path.join(work, 'out2');
    const summary = await fetchArchive({ url: archive, output: { kind: 'extract', dest } });
    expect(summary.files).toBe(3);
    for (const [i, f] of files.entries())
      expect((await readFile(path.join(dest, `f${i}`))).equals(f)).toBe(true);
  });
});
