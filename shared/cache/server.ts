// The cache service: an HTTP server (node:http, no framework) that routes each request to the read
// path (GET/HEAD of an object), the listing cache, or the pass-through, and serves its counters at
// GET /-/stats. startCacheServer() is what `sluice cache serve` runs and what a worker pool or a
// benchmark can start in-process; it owns the directory lock until close().
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReaderGoneError, relay, sendError } from './answers.ts';
import { BlockSource } from './block-source.ts';
import { BlockStore } from './block-store.ts';
import { lockCacheDir } from './cache-dir.ts';
import { LISTING_MAX_BYTES } from './constants.ts';
import { OriginUnreachableError } from './errors.ts';
import { isListing, ListingCache, listingKey } from './listing-cache.ts';
import { MetaResolver } from './meta-resolver.ts';
import { OriginClient, readSmallBody } from './origin-client.ts';
import { httpObjectRef, s3ObjectIds, s3ObjectRef } from './origins.ts';
import { passThrough } from './pass-through.ts';
import { ReadThrough } from './read-through.ts';
import { parseRoute, type Route } from './routes.ts';
import type { S3Upstream } from './s3-upstream.ts';
import { type CacheOptions, type CacheStatsSnapshot, newStats } from './types.ts';

export interface CacheServerOptions extends CacheOptions {
  host: string;
  port: number;
  /**
   * S3 buckets this cache refuses (403 AccessDenied, nothing sent upstream), whatever the
   * method: the AWS worker's own buckets, which its credentials reach but its algorithms must not.
   */
  deniedBuckets?: string[];
}

export interface CacheServerDeps {
  /** How to reach S3; without it, S3 requests answer 501. */
  s3?: S3Upstream;
  now?: () => number;
}

export interface CacheServer {
  /** Base URL, e.g. http://127.0.0.1:41234 (S3 endpoint; HTTP origins under /http/ and /https/). */
  url: string;
  stats(): CacheStatsSnapshot;
  close(): Promise<void>;
}

type S3Route = Extract<Route, { kind: 's3' }>;

const WRITES = new Set(['PUT', 'POST', 'DELETE', 'PATCH']);
const ok = (status: number) => status >= 200 && status < 300;

export async function startCacheServer(
  o: CacheServerOptions,
  deps: CacheServerDeps = {},
): Promise<CacheServer> {
  const now = deps.now ?? Date.now;
  const stats = newStats();
  const lock = await lockCacheDir(o.dir);
  let store: BlockStore;
  try {
    store = await BlockStore.open({
      dir: o.dir,
      maxSize: o.maxSize,
      blockSize: o.blockSize,
      stats,
      log: o.log,
    });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const client = new OriginClient(stats);
  const resolver = new MetaResolver({
    client,
    store,
    stats,
    blockSize: o.blockSize,
    ttlMs: o.metaTtlMs,
    now,
  });
  const blocks = new BlockSource({
    store,
    client,
    stats,
    log: o.log,
    blockSize: o.blockSize,
    originFetches: o.originFetches,
    now,
    onVersionChanged: (id) => resolver.forget(id),
  });
  const reader = new ReadThrough({
    resolver,
    blocks,
    client,
    stats,
    blockSize: o.blockSize,
    readAhead: o.readAhead,
    log: o.log,
  });
  const listings = new ListingCache(o.metaTtlMs);
  const startedAt = new Date(now()).toISOString();
  const s3 = deps.s3;

  const snapshot = (): CacheStatsSnapshot => ({
    ...stats,
    sizeOnDisk: store.index.bytes,
    blocks: store.index.blockCount,
    objects: store.index.objectCount,
    maxSize: o.maxSize,
    blockSize: o.blockSize,
    degraded: blocks.degraded,
    startedAt,
  });

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = `${JSON.stringify(body, null, 1)}\n`;
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, name: 'stats' | 'clear') => {
    if (name === 'stats' && (req.method === 'GET' || req.method === 'HEAD'))
      return json(res, 200, snapshot());
    if (name === 'clear' && req.method === 'POST') {
      const cleared = { blocks: store.index.blockCount, bytes: store.index.bytes };
      await store.clear();
      return json(res, 200, { cleared });
    }
    return sendError(
      res,
      { s3: false, head: false },
      405,
      'MethodNotAllowed',
      `${req.method} not allowed here`,
    );
  };

  const s3Pass = (req: IncomingMessage, res: ServerResponse, r: S3Route, up: S3Upstream) =>
    passThrough(
      req,
      res,
      {
        origin: up.origin,
        s3: true,
        resource: `/${r.bucket}/${r.key}`,
        build: (h) => up.sign(req.method ?? 'GET', { bucket: r.bucket, key: r.key, query: r.query }, h),
      },
      client,
      stats,
    );

  const listing = async (res: ServerResponse, r: S3Route, up: S3Upstream) => {
    const key = listingKey(up.origin, r.bucket, r.query);
    const hit = listings.get(key, now());
    if (hit) {
      res.writeHead(hit.status, {
        ...hit.headers,
        'content-length': hit.body.length,
        'x-sluice-cache': 'hit',
      });
      res.end(hit.body);
      return;
    }
    let answer: IncomingMessage;
    try {
      const signed = await up.sign('GET', { bucket: r.bucket, key: '', query: r.query }, {});
      answer = await client.send('GET', signed, up.origin);
    } catch (err) {
      const msg = err instanceof OriginUnreachableError ? err.message : (err as Error).message;
      return sendError(
        res,
        { s3: true, head: false, resource: `/${r.bucket}` },
        502,
        'BadGateway',
        `sluice cache: ${msg}`,
      );
    }
    const length = Number(answer.headers['content-length'] ?? Number.NaN);
    if (answer.statusCode !== 200 || !(length <= LISTING_MAX_BYTES)) return relay(res, answer, false);
    const body = await readSmallBody(answer, LISTING_MAX_BYTES);
    if (!body)
      return sendError(res, { s3: true, head: false }, 502, 'BadGateway', 'sluice cache: listing cut short');
    stats.bytesFromOrigin += body.length;
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'x-amz-request-id', 'x-amz-bucket-region']) {
      const v = answer.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    listings.set(key, { at: now(), status: 200, headers, body });
    res.writeHead(200, { ...headers, 'content-length': body.length, 'x-sluice-cache': 'miss' });
    res.end(body);
  };

  const denied = new Set(o.deniedBuckets ?? []);
  const handleS3 = async (req: IncomingMessage, res: ServerResponse, r: S3Route) => {
    if (denied.has(r.bucket))
      return sendError(
        res,
        { s3: true, head: req.method === 'HEAD' },
        403,
        'AccessDenied',
        `sluice cache: bucket ${r.bucket} is not served here`,
      );
    if (!s3)
      return sendError(
        res,
        { s3: true, head: req.method === 'HEAD' },
        501,
        'NotImplemented',
        'no S3 upstream',
      );
    if (r.cacheable) {
      const ref = s3ObjectRef(s3, r.bucket, r.key, r.query);
      return reader.serve(req, res, ref, {
        resource: `/${r.bucket}/${r.key}`,
        passThrough: async () => void (await s3Pass(req, res, r, s3)),
      });
    }
    if (r.bucket && isListing(req.method ?? '', r.key, r.query)) return listing(res, r, s3);
    const status = await s3Pass(req, res, r, s3);
    if (!WRITES.has(req.method ?? '') || !ok(status) || !r.bucket) return;
    listings.dropBucket(s3.origin, r.bucket);
    if (r.key)
      for (const id of s3ObjectIds(s3.origin, r.bucket, r.key, r.query))
        resolver.forget(id, { blocks: true });
    // DeleteObjects (POST ?delete) names its keys in the body: forget the bucket's versions.
    else resolver.forgetPrefix(`s3 ${s3.origin}/${r.bucket}/`);
  };

  const handleHttp = async (req: IncomingMessage, res: ServerResponse, url: string, origin: string) => {
    const rewrite = (h: OutgoingHttpHeaders) => {
      const loc = h.location;
      if (typeof loc !== 'string') return;
      const m = /^(https?):\/\/([^/?#]+)(.*)$/i.exec(loc);
      if (m) h.location = `/${m[1]!.toLowerCase()}/${m[2]}${m[3] || '/'}`;
    };
    const pass = () =>
      passThrough(
        req,
        res,
        { origin, s3: false, resource: url, build: async (headers) => ({ url, headers }), rewrite },
        client,
        stats,
      );
    // The reader's own credentials make the answer the reader's: never shared through the cache.
    const personal = req.headers.authorization !== undefined || req.headers.cookie !== undefined;
    if ((req.method === 'GET' || req.method === 'HEAD') && !personal) {
      return reader.serve(req, res, httpObjectRef(url, origin), {
        resource: url,
        rewrite,
        passThrough: async () => void (await pass()),
      });
    }
    const status = await pass();
    if (WRITES.has(req.method ?? '') && ok(status)) resolver.forget(url, { blocks: true });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const route = parseRoute(req.method ?? 'GET', req.url ?? '/');
    switch (route.kind) {
      case 'control':
        return control(req, res, route.name);
      case 'http':
        return handleHttp(req, res, route.url, route.origin);
      case 's3':
        return handleS3(req, res, route);
      default:
        return sendError(
          res,
          { s3: false, head: req.method === 'HEAD' },
          400,
          'InvalidRequest',
          route.message,
        );
    }
  };

  const told = new Set<string>();
  const server = http.createServer(
    // No request timeout: an upload passed through may take as long as the origin lets it.
    { keepAliveTimeout: 65_000, requestTimeout: 0 },
    (req, res) => {
      handle(req, res).catch((err: Error) => {
        if (err instanceof ReaderGoneError) return;
        if (!told.has(err.message)) {
          told.add(err.message);
          o.log(`cache: ${req.method} ${req.url}: ${err.message}`);
        }
        sendError(
          res,
          { s3: false, head: req.method === 'HEAD' },
          500,
          'InternalError',
          `sluice cache: ${err.message}`,
        );
      });
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const { port, address, family } = server.address() as AddressInfo;
  const url = `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
  await lock.publish(url);

  return {
    url,
    stats: snapshot,
    async close() {
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      client.close();
      await lock.release();
    },
  };
}
