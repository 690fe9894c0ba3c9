// Starts the read-through cache in-process on 127.0.0.1 with a temporary directory and small
// blocks (tests move kilobytes, not gigabytes), and reads through it with fetch.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CacheServer,
  type CacheServerOptions,
  type S3Upstream,
  startCacheServer,
} from '../../shared/cache/index.ts';

export interface TestCache {
  server: CacheServer;
  url: string;
  dir: string;
  log: string[];
  /** Restarts on the same directory (and port 0: a new URL). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export const TEST_BLOCK = 64 * 1024;

export async function startTestCache(
  opts: Partial<CacheServerOptions> = {},
  deps: { s3?: S3Upstream; now?: () => number } = {},
): Promise<TestCache> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'sluice-cache-test-')));
  const log: string[] = [];
  const options: CacheServerOptions = {
    dir,
    maxSize: 256 * 1024 * 1024,
    blockSize: TEST_BLOCK,
    host: '127.0.0.1',
    port: 0,
    metaTtlMs: 30_000,
    readAhead: 4,
    originFetches: 32,
    log: (l) => log.push(l),
    ...opts,
  };
  const t: TestCache = {
    server: await startCacheServer(options, deps),
    url: '',
    dir,
    log,
    async restart() {
      await t.server.close();
      t.server = await startCacheServer(options, deps);
      t.url = t.server.url;
    },
    async close() {
      await t.server.close();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
  t.url = t.server.url;
  return t;
}

/** GET through the cache; the body as a Buffer (a cut-short answer rejects). */
export async function read(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

/** Bytes of the files under dir that the cache holds (not `.tmp` files of blocks being written). */
export async function diskBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile() || e.name.endsWith('.tmp')) continue;
    const parent = e.parentPath ?? (e as unknown as { path: string }).path;
    n += (await stat(join(parent, e.name)).catch(() => ({ size: 0 }))).size;
  }
  return n;
}
