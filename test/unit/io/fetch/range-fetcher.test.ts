import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpSource } from '../../../../shared/io/fetch/http-source.ts';
import { RangeFetcher, type RangeFetcherOptions } from '../../../../shared/io/fetch/range-fetcher.ts';
import {
  type RangeServer,
  type RangeServerOptions,
  startRangeServer,
} from '../../../helpers/range-server.ts';

const KiB = 1024;
let server: RangeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const OPTS: RangeFetcherOptions = {
  workers: 4,
  chunkSize: 64 * KiB,
  maxBuffered: 1024 * KiB,
  minSpeed: 0,
  stallMs: 0,
  retries: 3,
  backoffMs: 10,
};

async function download(serverOpts: RangeServerOptions, opts: Partial<RangeFetcherOptions> = {}) {
  server = await startRangeServer(serverOpts);
  const source = new HttpSource(`${server.url}/data.bin`);
  try {
    const info = await source.probe(new AbortController().signal);
    const fetcher = new RangeFetcher(source, info, { ...OPTS, ...opts });
    const parts: Buffer[] = [];
    for await (const b of fetcher) parts.push(Buffer.from(b));
    return { data: Buffer.concat(parts), stats: fetcher.stats, info };
  } finally {
    source.close();
  }
}

describe('RangeFetcher over HTTP', () => {
  it('downloads in parallel ranges and delivers the bytes in order', async () => {
    const body = randomBytes(1000 * KiB + 123);
    const { data, stats, info } = await download({ body });
    expect(info).toMatchObject({ size: body.length, ranges: true, etag: '"v1"' });
    expect(data.equals(body)).toBe(true);
    expect(stats.chunks).toBe(16);
    expect(server!.requests.filter((r) => r.status === 206).length).toBe(17); // probe + 16 chunks
  });

  it('resumes a chunk from its last received byte after the connection drops mid-chunk', async () => {
    const body = randomBytes(512 * KiB);
    const { data, stats } = await download({
      body,
      fault: (n, range) => (range?.start === 128 * KiB && n < 12 ? { dropAfter: 10_000 } : undefined),
    });
    expect(data.equals(body)).toBe(true);
    expect(stats.retries).toBe(1);
    // The retry asks only for what was missing.
    expect(server!.requests.some((r) => r.range === `bytes=${128 * KiB + 10_000}-${192 * KiB - 1}`)).toBe(
      true,
    );
  });

  it('fails at once on 404 with a clear message', async () => {
    const body = randomBytes(10 * KiB);
    server = await startRangeServer({ body, fault: () => ({ status: 404 }) });
    const source = new HttpSource(`${server.url}/missing.tar`);
    await expect(source.probe(new AbortController().signal)).rejects.toThrow(
      /missing\.tar: not found \(HTTP 404\)/,
    );
    expect(server.requests).toHaveLength(1);
    source.close();
  });

  it('fails a chunk at once on 403 (no retries)', async () => {
    const body = randomBytes(256 * KiB);
    await expect(download({ body, fault: (n) => (n === 2 ? { status: 403 } : undefined) })).rejects.toThrow(
      /access denied \(HTTP 403\)/,
    );
    expect(server!.requests.filter((r) => r.status === 403)).toHaveLength(1);
  });

  it('backs off on 429 and 503 (honouring Retry-After) and then succeeds', async () => {
    const body = randomBytes(256 * KiB);
    const t0 = Date.now();
    const { data, stats } = await download({
      body,
      fault: (n) => (n === 1 ? { status: 429, retryAfter: 1 } : n === 2 ? { status: 503 } : undefined),
    });
    expect(data.equals(body)).toBe(true);
    expect(stats.retries).toBe(2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950); // Retry-After: 1
  });

  it('gives up after --retries attempts of 503', async () => {
    const body = randomBytes(128 * KiB);
    await expect(
      download({ body, fault: (n) => (n >= 1 ? { status: 503 } : undefined) }, { retries: 2 }),
    ).rejects.toThrow(/HTTP 503.*gave up after 2 retries/);
  });

  it('reports an object that changes mid-download (ETag) instead of mixing versions', async () => {
    const body = randomBytes(512 * KiB);
    await expect(download({ body, etag: (n) => (n < 3 ? '"v1"' : '"v2"') })).rejects.toThrow(
      /changed during the download/,
    );
  });

  it('detects a length change through Content-Range even without ETags', async () => {
    const body = randomBytes(256 * KiB);
    // Probe the old object, then read chunks from a replaced (longer) one at the same URL path.
    server = await startRangeServer({ body, etag: () => undefined });
    const old = new HttpSource(`${server.url}/x`);
    const info = await old.probe(new AbortController().signal);
    old.close();
    const replaced = await startRangeServer({
      body: Buffer.concat([body, Buffer.alloc(10)]),
      etag: () => undefined,
    });
    const source = new HttpSource(`${replaced.url}/x`);
    const fetcher = new RangeFetcher(source, info, OPTS);
    const drain = async () => {
      for await (const _ of fetcher);
    };
    await expect(drain()).rejects.toThrow(/changed during the download \(length 262144 -> 262154\)/);
    source.close();
    await replaced.close();
  });

  it('falls back to one stream when the server ignores Range', async () => {
    const body = randomBytes(300 * KiB);
    const { data, stats, info } = await download({ body, ranges: false });
    expect(info.ranges).toBe(false);
    expect(stats.parallel).toBe(false);
    expect(data.equals(body)).toBe(true);
    expect(server!.requests.filter((r) => r.range === undefined)).toHaveLength(1);
  });

  it('restarts a stalled request (below --min-speed) and resumes it', async () => {
    const body = randomBytes(256 * KiB);
    const { data, stats } = await download(
      { body, fault: (n, range) => (range?.start === 64 * KiB && n < 8 ? { stallAfter: 1000 } : undefined) },
      { minSpeed: 100 * KiB, stallMs: 200 },
    );
    expect(data.equals(body)).toBe(true);
    expect(stats.retries).toBeGreaterThanOrEqual(1);
    expect(server!.requests.some((r) => r.range === `bytes=${64 * KiB + 1000}-${128 * KiB - 1}`)).toBe(true);
  });

  it('back-pressures: a consumer that stops reading stops new requests', async () => {
    const body = randomBytes(4096 * KiB);
    server = await startRangeServer({ body });
    const source = new HttpSource(`${server.url}/big`);
    const info = await source.probe(new AbortController().signal);
    const fetcher = new RangeFetcher(source, info, { ...OPTS, workers: 8, maxBuffered: 256 * KiB });
    const it = fetcher[Symbol.asyncIterator]();
    await it.next(); // read one piece, then stall
    await new Promise((r) => setTimeout(r, 300));
    // 256 KiB of read-ahead = 4 chunks of 64 KiB, out of 64.
    expect(fetcher.stats.requests).toBeLessThanOrEqual(4);
    let total = (await it.next()).value?.length ?? 0;
    for (let r = await it.next(); !r.done; r = await it.next()) total += r.value.length;
    expect(fetcher.stats.requests).toBe(64);
    source.close();
    expect(total).toBeGreaterThan(0);
  });
});

describe('HttpSource redirects', () => {
  it('follows a redirect once and sends the chunk requests to the final URL', async () => {
    const body = randomBytes(200 * KiB);
    server = await startRangeServer({ body });
    const target = `${server.url}/real.bin`;
    let redirects = 0;
    const front = http.createServer((_req, res) => {
      redirects++;
      res.writeHead(302, { location: target });
      res.end();
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const { port } = front.address() as AddressInfo;
    const source = new HttpSource(`http://127.0.0.1:${port}/dl`);
    try {
      const info = await source.probe(new AbortController().signal);
      const fetcher = new RangeFetcher(source, info, OPTS);
      const parts: Buffer[] = [];
      for await (const b of fetcher) parts.push(Buffer.from(b));
      expect(Buffer.concat(parts).equals(body)).toBe(true);
      expect(redirects).toBe(1);
      expect(server.requests.length).toBe(5); // probe + 4 chunks, all at the final URL
    } finally {
      source.close();
      await new Promise((r) => front.close(r));
    }
  });
});
