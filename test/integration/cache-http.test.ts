// The read-through cache in front of an HTTP origin on 127.0.0.1 that counts what it sends:
// byte-identical reads, warm reads that cost the origin nothing (even stopped), one origin fetch
// per block for concurrent cold readers, the size cap, changed objects, errors passed through.
import { createHash, randomBytes } from 'node:crypto';
import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BlockStore } from '../../shared/cache/block-store.ts';
import { diskBytes, read, startTestCache, TEST_BLOCK, type TestCache } from '../helpers/cache.ts';
import { type CountingOrigin, startCountingOrigin } from '../helpers/counting-origin.ts';

let origin: CountingOrigin;
let cache: TestCache;
let clock = 1_700_000_000_000;
const now = () => clock;
const via = (path: string) => `${cache.url}/http/${origin.url.slice('http://'.length)}${path}`;

beforeAll(async () => {
  origin = await startCountingOrigin();
  cache = await startTestCache({}, { now });
});
afterAll(async () => {
  await cache?.close();
  await origin?.stop();
});
afterEach(() => {
  origin.pieceDelayMs = 0;
  vi.restoreAllMocks();
});

/** Complete block files of an HTTP object in the cache directory. */
async function storedBlocks(url: string): Promise<number> {
  const h = createHash('sha256').update(url).digest('hex').slice(0, 32);
  const files = await readdir(join(cache.dir, 'blocks', h.slice(0, 2), h)).catch(() => [] as string[]);
  return files.filter((f) => /^[0-9a-f]{16}\.\d+$/.test(f)).length;
}

function randomRange(size: number): [number, number] {
  const a = Math.floor(Math.random() * size);
  const b = Math.min(size - 1, a + Math.floor(Math.random() * 3 * TEST_BLOCK));
  return [a, b];
}

describe('cache in front of an HTTP origin', () => {
  it('reads whole objects and random ranges byte-identical; warm reads send nothing, even with the origin stopped', async () => {
    const body = randomBytes(16 * TEST_BLOCK + 123);
    origin.put('/set/a.bin', body, { contentType: 'application/x-test' });
    const ranges = Array.from({ length: 20 }, () => randomRange(body.length));
    const cold = await read(via('/set/a.bin'));
    expect(cold.status).toBe(200);
    expect(cold.body.equals(body)).toBe(true);
    expect(cold.headers.get('content-type')).toBe('application/x-test');
    expect(cold.headers.get('x-sluice-cache')).toBe('miss');
    // Every block once, and nothing but blocks (the first one also told the version).
    expect(origin.bytesSent).toBe(body.length);
    expect(origin.requests.every((r) => r.method === 'GET' && r.status === 206)).toBe(true);
    for (const [a, b] of ranges) {
      const r = await read(via('/set/a.bin'), { range: `bytes=${a}-${b}` });
      expect(r.status).toBe(206);
      expect(r.headers.get('content-range')).toBe(`bytes ${a}-${b}/${body.length}`);
      expect(r.body.equals(body.subarray(a, b + 1))).toBe(true);
    }

    origin.reset();
    expect((await read(via('/set/a.bin'))).body.equals(body)).toBe(true);
    expect((await read(via('/set/a.bin'), { range: 'bytes=-1000' })).body.equals(body.subarray(-1000))).toBe(
      true,
    );
    expect(origin.requests).toEqual([]);

    await origin.stop();
    try {
      const warm = await read(via('/set/a.bin'));
      expect(warm.headers.get('x-sluice-cache')).toBe('hit');
      expect(warm.body.equals(body)).toBe(true);
      // Past the TTL the origin would be asked; unreachable, the cached version is still served.
      clock += 60_000;
      expect((await read(via('/set/a.bin'), { range: 'bytes=5-9' })).body.equals(body.subarray(5, 10))).toBe(
        true,
      );
      expect(cache.server.stats().staleServed).toBeGreaterThanOrEqual(1);
      // ...but what is not cached cannot be: 502 naming the origin.
      const missing = await read(via('/set/other.bin'));
      expect(missing.status).toBe(502);
      expect(missing.body.toString()).toContain(origin.url);
    } finally {
      await origin.start();
    }
  });

  it('concurrent cold readers: one origin fetch per block', async () => {
    const body = randomBytes(24 * TEST_BLOCK + 5);
    origin.put('/set/shared.bin', body);
    origin.reset();
    origin.pieceDelayMs = 2;
    const readers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        i % 4 === 3
          ? read(via('/set/shared.bin'), { range: `bytes=${i * 1000}-` })
          : read(via('/set/shared.bin')),
      ),
    );
    readers.forEach((r, i) => {
      expect(r.body.equals(i % 4 === 3 ? body.subarray(i * 1000) : body)).toBe(true);
    });
    expect(origin.gets).toBe(25);
    expect(origin.bytesSent).toBe(body.length);
    expect(cache.server.stats().coalesced).toBeGreaterThan(25);
  });

  it('a range read fetches only the blocks it lacks; sequential readers read ahead', async () => {
    const body = randomBytes(20 * TEST_BLOCK);
    origin.put('/set/ranges.bin', body);
    origin.reset();
    const r = await read(via('/set/ranges.bin'), {
      range: `bytes=${5 * TEST_BLOCK + 10}-${6 * TEST_BLOCK + 10}`,
    });
    expect(r.body.equals(body.subarray(5 * TEST_BLOCK + 10, 6 * TEST_BLOCK + 11))).toBe(true);
    expect(origin.requests.map((q) => q.range)).toEqual([
      `bytes=${5 * TEST_BLOCK}-${6 * TEST_BLOCK - 1}`,
      `bytes=${6 * TEST_BLOCK}-${7 * TEST_BLOCK - 1}`,
    ]);
    // Reading on from where that range ended looks sequential: the next blocks come ahead.
    origin.reset();
    await read(via('/set/ranges.bin'), { range: `bytes=${6 * TEST_BLOCK + 11}-${7 * TEST_BLOCK}` });
    await vi.waitFor(() => expect(origin.gets).toBe(1 + 4));
    origin.reset();
    const rest = await read(via('/set/ranges.bin'), {
      range: `bytes=${7 * TEST_BLOCK + 1}-${11 * TEST_BLOCK - 1}`,
    });
    expect(rest.body.equals(body.subarray(7 * TEST_BLOCK + 1, 11 * TEST_BLOCK))).toBe(true);
    // Blocks 7-10 were cached or on their way: only blocks further ahead were asked for.
    for (const q of origin.requests)
      expect(Number(/^bytes=(\d+)-/.exec(q.range ?? '')?.[1])).toBeGreaterThanOrEqual(11 * TEST_BLOCK);
  });

  it('keys by the query string too', async () => {
    origin.put('/q?part=1', Buffer.from('one'));
    origin.put('/q?part=2', Buffer.from('two'));
    expect((await read(via('/q?part=1'))).body.toString()).toBe('one');
    expect((await read(via('/q?part=2'))).body.toString()).toBe('two');
    expect((await read(via('/q?part=1'))).body.toString()).toBe('one');
  });

  it('a changed object is read again, never mixed with its old blocks', async () => {
    const v1 = randomBytes(8 * TEST_BLOCK);
    const v2 = randomBytes(8 * TEST_BLOCK);
    origin.put('/set/changing.bin', v1);
    expect(
      (await read(via('/set/changing.bin'), { range: `bytes=0-${TEST_BLOCK - 1}` })).body.equals(
        v1.subarray(0, TEST_BLOCK),
      ),
    ).toBe(true);
    // Block 0 and the 4 read ahead of it are stored before the object changes.
    await vi.waitFor(async () => expect(await storedBlocks(origin.url + '/set/changing.bin')).toBe(5));
    origin.put('/set/changing.bin', v2);
    // Within the TTL the cache still believes v1: blocks 0-4 are cached, block 5 comes back as v2.
    // The answer is cut short rather than mix them.
    await expect(read(via('/set/changing.bin'))).rejects.toThrow();
    const again = await read(via('/set/changing.bin'));
    expect(again.body.equals(v2)).toBe(true);

    const v3 = randomBytes(8 * TEST_BLOCK);
    origin.put('/set/changing.bin', v3);
    clock += 60_000;
    expect((await read(via('/set/changing.bin'))).body.equals(v3)).toBe(true);
    expect(cache.server.stats().versionChanges).toBeGreaterThanOrEqual(2);
  });

  it('passes errors through: 404 and 403 with the origin message, 502 naming an unreachable origin', async () => {
    const missing = await read(via('/nope.bin'));
    expect(missing.status).toBe(404);
    expect(missing.body.toString()).toBe('no such object /nope.bin');
    origin.errors.set('/secret.bin', { status: 403, message: 'Forbidden: no token' });
    const forbidden = await read(via('/secret.bin'));
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.toString()).toBe('Forbidden: no token');
    expect((await fetch(via('/secret.bin'), { method: 'HEAD' })).status).toBe(403);
    const dead = await read(`${cache.url}/http/127.0.0.1:1/x.bin`);
    expect(dead.status).toBe(502);
    expect(dead.body.toString()).toMatch(/origin http:\/\/127\.0\.0\.1:1 unreachable \(ECONNREFUSED\)/);
    // A deleted object drops its blocks.
    origin.put('/gone.bin', randomBytes(1000));
    await read(via('/gone.bin'));
    origin.objects.delete('/gone.bin');
    clock += 60_000;
    expect((await read(via('/gone.bin'))).status).toBe(404);
  });

  it('HEAD, conditional requests and objects without a validator', async () => {
    const body = randomBytes(3 * TEST_BLOCK);
    origin.put('/h.bin', body, { lastModified: 'Wed, 01 Jan 2025 00:00:00 GMT' });
    const head = await fetch(via('/h.bin'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(body.length));
    const etag = head.headers.get('etag')!;
    expect((await fetch(via('/h.bin'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(via('/h.bin'), { headers: { 'if-match': '"other"' } })).status).toBe(412);
    expect((await fetch(via('/h.bin'), { headers: { range: `bytes=${body.length}-` } })).status).toBe(416);

    // An empty object: no blocks, no range to satisfy.
    origin.put('/empty.bin', Buffer.alloc(0));
    const empty = await read(via('/empty.bin'), { range: 'bytes=0-99' });
    expect(empty).toMatchObject({ status: 200, body: Buffer.alloc(0) });
    expect(empty.headers.get('content-length')).toBe('0');

    // No ETag, no Last-Modified: a change could not be told, so nothing is stored.
    origin.put('/plain.bin', body, { etag: null });
    origin.reset();
    expect((await read(via('/plain.bin'))).body.equals(body)).toBe(true);
    expect((await read(via('/plain.bin'), { range: 'bytes=10-19' })).body.equals(body.subarray(10, 20))).toBe(
      true,
    );
    expect(origin.gets).toBe(3);
  });

  it('a full disk: reads pass through uncached, said once in the log', async () => {
    const body = randomBytes(6 * TEST_BLOCK + 7);
    origin.put('/full.bin', body);
    const full = await open('/dev/full', 'r+');
    vi.spyOn(BlockStore.prototype, 'createTemp').mockImplementation(async () => ({
      fh: await open('/dev/full', 'r+'),
      path: `${cache.dir}/never-created.tmp`,
    }));
    try {
      expect((await read(via('/full.bin'))).body.equals(body)).toBe(true);
      expect(
        (await read(via('/full.bin'), { range: 'bytes=100-200000' })).body.equals(body.subarray(100, 200001)),
      ).toBe(true);
      expect(cache.server.stats().degraded).toBe(true);
      expect(cache.log.filter((l) => l.includes('disk full'))).toHaveLength(1);
    } finally {
      await full.close();
    }
  });

  it('the size cap holds after reading three times the cap', async () => {
    const cap = 16 * (TEST_BLOCK + 32) + 4096;
    const small = await startTestCache({ maxSize: cap });
    try {
      const objects = Array.from({ length: 12 }, (_, i) => {
        const body = randomBytes(4 * TEST_BLOCK);
        origin.put(`/cap/${i}.bin`, body);
        return body;
      });
      for (let i = 0; i < objects.length; i++) {
        const r = await read(`${small.url}/http/${origin.url.slice(7)}/cap/${i}.bin`);
        expect(r.body.equals(objects[i]!)).toBe(true);
        expect(await diskBytes(`${small.dir}/blocks`)).toBeLessThanOrEqual(cap);
      }
      const s = small.server.stats();
      expect(s.sizeOnDisk).toBeLessThanOrEqual(cap);
      expect(s.evictions).toBeGreaterThanOrEqual(30);
      origin.reset();
      // The most recent object is still whole in the cache.
      expect(
        (await read(`${small.url}/http/${origin.url.slice(7)}/cap/11.bin`)).body.equals(objects[11]!),
      ).toBe(true);
      expect(origin.requests).toEqual([]);
    } finally {
      await small.close();
    }
  });
});
