import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, encodeHeader } from '../../../shared/cache/block-file.ts';
import { BlockStore } from '../../../shared/cache/block-store.ts';
import { type CacheStats, newStats, type ObjectMeta } from '../../../shared/cache/types.ts';

const BS = 64 * 1024;
const root = await mkdtemp(join(tmpdir(), 'sluice-block-store-'));
afterAll(() => rm(root, { recursive: true, force: true }));

const meta = (size: number, etag = '"v1"', checkedAt = 1): ObjectMeta => ({
  size,
  etag,
  version: `etag ${etag} ${size}`,
  headers: {},
  checkedAt,
});

async function openStore(dir: string, maxSize = 1 << 30, stats: CacheStats = newStats()) {
  return BlockStore.open({ dir, maxSize, blockSize: BS, stats, log: () => {} });
}

async function put(store: BlockStore, id: string, m: ObjectMeta, n: number, data: Buffer) {
  const obj = store.objectHash(id);
  const t = await store.createTemp(obj, store.versionHash(m.version), n);
  await t.fh.write(encodeHeader({ crc: crc32(data), length: data.length, block: n }), 0, 32, 0);
  await t.fh.write(data, 0, data.length, 32);
  await t.fh.close();
  return store.commit(t.path, obj, n, id, m);
}

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) out.push(join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
  return out;
}

async function diskBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await files(dir)) n += (await stat(f)).size;
  return n;
}

describe('BlockStore', () => {
  it('keeps complete blocks across a restart and drops temporary, stale and truncated files', async () => {
    const dir = join(root, 'restart');
    const s1 = await openStore(dir);
    const m = meta(BS * 2 + 10);
    const id = 'http://origin/a';
    expect(await put(s1, id, m, 0, randomBytes(BS))).toBe(true);
    expect(await put(s1, id, m, 1, randomBytes(BS))).toBe(true);
    expect(await put(s1, id, m, 2, randomBytes(10))).toBe(true);
    const objDir = join(dir, 'blocks', s1.objectHash(id).slice(0, 2), s1.objectHash(id));
    const vh = s1.versionHash(m.version);
    await writeFile(join(objDir, `${vh}.3.abcd.tmp`), 'half a block');
    await writeFile(join(objDir, `${'0'.repeat(16)}.0`), 'an old version');
    const fh = await open(join(objDir, `${vh}.1`), 'r+');
    await fh.truncate(1000);
    await fh.close();

    const s2 = await openStore(dir);
    const key = (n: number) => s2.blockKey(s2.objectHash(id), vh, n);
    expect([0, 1, 2].map((n) => s2.has(key(n)))).toEqual([true, false, true]);
    expect((await files(objDir)).map((f) => f.slice(objDir.length + 1)).sort()).toEqual([
      `${vh}.0`,
      `${vh}.2`,
      'meta.json',
    ]);
    expect(s2.index.bytes).toBe(await diskBytes(join(dir, 'blocks')));
    expect((await s2.readMeta(s2.objectHash(id)))?.meta.version).toBe(m.version);
  });

  it('finds a damaged block by its checksum on first read, drops it, and counts it', async () => {
    const dir = join(root, 'corrupt');
    const stats = newStats();
    const s1 = await openStore(dir);
    const m = meta(BS);
    await put(s1, 'x', m, 0, randomBytes(BS));
    const key = s1.blockKey(s1.objectHash('x'), s1.versionHash(m.version), 0);
    const fh = await open(join(dir, 'blocks', key), 'r+');
    await fh.write(Buffer.from('garbage'), 0, 7, 1000);
    await fh.close();
    const s2 = await openStore(dir, 1 << 30, stats);
    expect(s2.has(key)).toBe(true);
    expect(await s2.openBlock(key, 0, m)).toBeUndefined();
    expect(s2.has(key)).toBe(false);
    expect(stats.corruptBlocks).toBe(1);
  });

  it('stays within maxSize, evicting the least recently used blocks', async () => {
    const dir = join(root, 'cap');
    const cap = 5 * (BS + 32) + 2000;
    const stats = newStats();
    const s = await openStore(dir, cap, stats);
    for (let i = 0; i < 12; i++) {
      await put(s, `obj${i}`, meta(BS), 0, randomBytes(BS));
      expect(await diskBytes(join(dir, 'blocks'))).toBeLessThanOrEqual(cap);
    }
    expect(stats.evictions).toBeGreaterThanOrEqual(7);
    expect(s.index.bytes).toBe(await diskBytes(join(dir, 'blocks')));
    const k = (i: number) => s.blockKey(s.objectHash(`obj${i}`), s.versionHash(meta(BS).version), 0);
    expect(s.has(k(11))).toBe(true);
    expect(s.has(k(0))).toBe(false);
  });

  it('a new version replaces the old one; an older sighting never displaces a newer one', async () => {
    const s = await openStore(join(root, 'versions'));
    const v1 = meta(BS, '"v1"', 10);
    const v2 = meta(BS, '"v2"', 20);
    await put(s, 'o', v1, 0, randomBytes(BS));
    expect(await put(s, 'o', v2, 0, randomBytes(BS))).toBe(true);
    expect(await put(s, 'o', v1, 0, randomBytes(BS))).toBe(false);
    const obj = s.objectHash('o');
    expect(s.has(s.blockKey(obj, s.versionHash(v2.version), 0))).toBe(true);
    expect(s.has(s.blockKey(obj, s.versionHash(v1.version), 0))).toBe(false);
    expect(s.index.blockCount).toBe(1);
  });
});
