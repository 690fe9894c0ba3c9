import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange, parseRate, type RangeServer, startRangeServer } from '../../../bench/rig/http-server.ts';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  seconds: number;
}

function get(
  url: string,
  headers: Record<string, string> = {},
  agent?: import('node:http').Agent,
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          seconds: (performance.now() - t0) / 1000,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('rate-limited Range server (bench rig)', () => {
  let dir: string;
  let server: RangeServer;
  const data = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7) % 251));

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-range-'));
    await writeFile(join(dir, 'blob.bin'), data);
    server = await startRangeServer({ root: dir, bytesPerSecond: 2 << 20 }); // 2 MiB/s per connection
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a Range request with 206, Content-Range and exactly those bytes', async () => {
    const r = await get(`${server.url}/blob.bin`, { range: 'bytes=1000-1999' });
    expect(r.status).toBe(206);
    expect(r.headers['content-range']).toBe(`bytes 1000-1999/${data.length}`);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.body.equals(data.subarray(1000, 2000))).toBe(true);
  });

  it('serves suffix and open-ended ranges, and 416 past the end', async () => {
    expect(
      (await get(`${server.url}/blob.bin`, { range: 'bytes=-10' })).body.equals(data.subarray(-10)),
    ).toBe(true);
    const tail = await get(`${server.url}/blob.bin`, { range: `bytes=${data.length - 5}-` });
    expect(tail.body.equals(data.subarray(-5))).toBe(true);
    const past = await get(`${server.url}/blob.bin`, { range: `bytes=${data.length}-` });
    expect(past.status).toBe(416);
    expect(past.headers['content-range']).toBe(`bytes */${data.length}`);
  });

  it('checks If-Match against its strong ETag (412 when it differs)', async () => {
    const head = await get(`${server.url}/blob.bin`, { range: 'bytes=0-0' });
    const etag = String(head.headers.etag);
    expect(etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect((await get(`${server.url}/blob.bin`, { range: 'bytes=0-0', 'if-match': etag })).status).toBe(206);
    expect((await get(`${server.url}/blob.bin`, { range: 'bytes=0-0', 'if-match': '"other"' })).status).toBe(
      412,
    );
  });

  it('refuses paths outside its root and answers 404 for missing files', async () => {
    expect((await get(`${server.url}/nope.bin`)).status).toBe(404);
    expect((await get(`${server.url}/..%2F..%2Fetc%2Fpasswd`)).status).toBe(403);
  });

  it('caps each connection at its rate, while parallel connections add up', async () => {
    // 1 MiB at 2 MiB/s: ~0.5 s on one connection (the first 64 KiB piece leaves at once).
    const one = await get(`${server.url}/blob.bin`);
    expect(one.body.equals(data)).toBe(true);
    expect(one.seconds).toBeGreaterThan(0.4);
    // The same MiB as four ranged GETs on four connections: ~4x faster.
    const quarter = data.length / 4;
    const t0 = performance.now();
    const parts = await Promise.all(
      [0, 1, 2, 3].map((k) =>
        get(`${server.url}/blob.bin`, { range: `bytes=${k * quarter}-${(k + 1) * quarter - 1}` }),
      ),
    );
    const seconds = (performance.now() - t0) / 1000;
    expect(Buffer.concat(parts.map((p) => p.body)).equals(data)).toBe(true);
    expect(seconds).toBeLessThan(one.seconds * 0.75);
  });
});

describe('rate and range parsing', () => {
  it('reads rates with k/m/g suffixes (binary units) and 0 for unlimited', () => {
    expect(parseRate('50m')).toBe(50 * 1024 * 1024);
    expect(parseRate('512k')).toBe(512 * 1024);
    expect(parseRate('0')).toBe(0);
    expect(() => parseRate('fast')).toThrow(/bad rate/);
  });

  it('ignores multi-range and junk headers (whole file), rejects empty suffixes', () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange('bytes=0-1,4-5', 10)).toBeNull();
    expect(parseRange('bytes=-0', 10)).toBeUndefined();
    expect(parseRange('bytes=2-100', 10)).toEqual({ start: 2, end: 9 });
  });
});
