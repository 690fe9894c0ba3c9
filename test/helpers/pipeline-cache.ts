// The `options.cache` scenario run on each backend (test/integration/pipeline-cache*.test.ts): a
// Python algorithm reads an S3 object by the boto3-style endpoint variable, the built-in `fetch`
// reads an HTTP origin; run without the option, then twice with it, then with a node opting out.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { liveServer } from '../../shared/cache/index.ts';
import type { AlgorithmDefinition } from '../../shared/pipeline/types.ts';
import { validateAlgorithm } from '../../shared/pipeline/validate-algorithm.ts';
import type { CountingOrigin } from './counting-origin.ts';

export const CACHE_OBJECT = randomBytes(3 * 1024 * 1024 + 17);
const SHA = createHash('sha256').update(CACHE_OBJECT).digest('hex');
export const CACHE_KEY = 'data/object.bin';

// Reads s3://BUCKET/KEY the way an S3 client configured by AWS_ENDPOINT_URL_S3 would (path style;
// the cache signs upstream requests itself, so the reader sends none), and says where it read.
const READER = `
import hashlib, os, urllib.request
def start(args):
    bucket, key = args["input"][0], args["input"][1]
    endpoint = os.environ["AWS_ENDPOINT_URL_S3"].rstrip("/")
    with urllib.request.urlopen(f"{endpoint}/{bucket}/{key}") as r:
        body = r.read()
    return {"sha": hashlib.sha256(body).hexdigest(), "endpoint": endpoint,
            "cache": os.environ.get("SLUICE_CACHE_URL")}
`;

export interface Read {
  sha: string;
  endpoint: string;
  cache: string | null;
}

export interface CacheBackend {
  /** Runs the pipeline to its end; the Read node's result. */
  run(pipeline: Record<string, unknown>): Promise<Read>;
}

/** The reader algorithm's definition, its code written under `dir`. */
export function readerAlgorithm(dir: string): AlgorithmDefinition {
  const code = join(dir, 'reader');
  mkdirSync(code, { recursive: true });
  writeFileSync(join(code, 'main.py'), READER);
  return validateAlgorithm({ name: 's3-reader', env: 'python', codePath: code, entryPoint: 'main.py' });
}

interface Stats {
  hits: number;
  misses: number;
  bytesFromCache: number;
  bytesFromOrigin: number;
}

async function stats(cacheDir: string): Promise<Stats> {
  const server = await liveServer(cacheDir);
  expect(server?.url).toBeTruthy();
  return (await (await fetch(`${server!.url}/-/stats`)).json()) as Stats;
}

export async function checkPipelineCache(opts: {
  backend: CacheBackend;
  bucket: string;
  s3Endpoint: string;
  origin: CountingOrigin;
  cacheDir: string;
  dir: string;
}): Promise<void> {
  const { backend, bucket, s3Endpoint, origin, cacheDir, dir } = opts;
  origin.put('/files/object.bin?v=1', CACHE_OBJECT);
  const pipeline = (out: string, options?: Record<string, unknown>) => ({
    name: 'cached-read',
    ...(options ? { options } : {}),
    nodes: [
      { nodeName: 'Read', algorithmName: 's3-reader', input: [bucket, CACHE_KEY] },
      {
        nodeName: 'Fetch',
        algorithmName: 'fetch',
        input: [{ url: `${origin.url}/files/object.bin?v=1`, output: join(dir, out) }],
      },
    ],
  });

  // Without the option: origins read directly, no cache started.
  expect(await backend.run(pipeline('plain.bin'))).toEqual({ sha: SHA, endpoint: s3Endpoint, cache: null });
  expect(readFileSync(join(dir, 'plain.bin')).equals(CACHE_OBJECT)).toBe(true);
  expect(await liveServer(cacheDir)).toBeUndefined();

  // First cached run: through the machine's cache, which fetches from the origins.
  const first = await backend.run(pipeline('first.bin', { cache: true }));
  expect(first.sha).toBe(SHA);
  expect(first.endpoint).toBe(first.cache);
  expect(first.endpoint).not.toBe(s3Endpoint);
  const cold = await stats(cacheDir);
  expect(cold.misses).toBeGreaterThan(0);
  expect(cold.bytesFromOrigin).toBeGreaterThanOrEqual(2 * CACHE_OBJECT.length);
  const originBytes = origin.bytesSent;

  // Second run: served from the cache; the origins send nothing.
  const second = await backend.run(pipeline('second.bin', { cache: true }));
  expect(second.sha).toBe(SHA);
  expect(readFileSync(join(dir, 'second.bin')).equals(CACHE_OBJECT)).toBe(true);
  const warm = await stats(cacheDir);
  expect(warm.hits).toBeGreaterThan(cold.hits);
  expect(warm.bytesFromCache - cold.bytesFromCache).toBeGreaterThanOrEqual(2 * CACHE_OBJECT.length);
  expect(warm.bytesFromOrigin).toBe(cold.bytesFromOrigin);
  expect(origin.bytesSent).toBe(originBytes);

  // A node can opt out.
  const off = pipeline('off.bin', { cache: true });
  (off.nodes[0] as Record<string, unknown>).cache = false;
  expect(await backend.run(off)).toMatchObject({ endpoint: s3Endpoint, cache: null });
}
