// `options.cache` end to end on the embedded engine with its real worker pool: the pool starts the
// machine's dataset cache (`sluice cache serve`, a child process) on first need, a Python
// algorithm reads S3 (s3rver) through it by the boto3-style endpoint variable, and the built-in
// `fetch` reads an HTTP origin through it. The second run is served from the cache: the cache's
// counters show hits, and the origins' counters show no new bytes. Without the option a pipeline
// reads its origins directly, as before.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveServer } from '../../shared/cache/index.ts';
import { validateAlgorithm } from '../../shared/pipeline/validate-algorithm.ts';
import { LocalEngine } from '../../shared/runtime/embedded/local-engine.ts';
import { type CountingOrigin, startCountingOrigin } from '../helpers/counting-origin.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const BUCKET = 'pipeline-cache';
const OBJECT = randomBytes(3 * 1024 * 1024 + 17);
const SHA = createHash('sha256').update(OBJECT).digest('hex');

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

let dir: string;
let cacheDir: string;
let engine: LocalEngine;
let s3: S3rverHandle;
let origin: CountingOrigin;
const saved: NodeJS.ProcessEnv = {};

interface Stats {
  hits: number;
  misses: number;
  bytesFromCache: number;
  bytesFromOrigin: number;
}

async function stats(): Promise<Stats> {
  const server = await liveServer(cacheDir);
  expect(server?.url).toBeTruthy();
  return (await (await fetch(`${server!.url}/-/stats`)).json()) as Stats;
}

async function runReader(cache: boolean | undefined, fetchDest: string) {
  const job = await engine.coordinator.submit({
    name: 'cached-read',
    ...(cache === undefined ? {} : { options: { cache } }),
    nodes: [
      { nodeName: 'Read', algorithmName: 's3-reader', input: [BUCKET, 'data/object.bin'] },
      {
        nodeName: 'Fetch',
        algorithmName: 'fetch',
        input: [{ url: `${origin.url}/files/object.bin?v=1`, output: fetchDest }],
      },
    ],
  });
  const final = await engine.waitForJob(job.jobId);
  expect(final.reason).toBeUndefined();
  expect(final.status).toBe('completed');
  const [read] = await engine.tasks.nodeResults(job.jobId, 'Read');
  return read!.result as { sha: string; endpoint: string; cache: string | null };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-cache-'));
  cacheDir = join(dir, 'dataset-cache');
  s3 = await startS3rver([BUCKET]);
  await s3.bulkStore().put(BUCKET, 'data/object.bin', OBJECT);
  origin = await startCountingOrigin();
  origin.put('/files/object.bin?v=1', OBJECT);
  for (const [k, v] of Object.entries({
    ...s3.env,
    SLUICE_CACHE_DIR: cacheDir,
    SLUICE_CACHE_MAX_SIZE: '64M',
  })) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  const code = join(dir, 'reader');
  mkdirSync(code);
  writeFileSync(join(code, 'main.py'), READER);
  engine = await LocalEngine.open({ home: join(dir, 'home'), workers: 2 });
  await engine.registry.putAlgorithm(
    validateAlgorithm({ name: 's3-reader', env: 'python', codePath: code, entryPoint: 'main.py' }),
    'create',
  );
  engine.start();
});

afterAll(async () => {
  await engine?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await origin?.stop();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('options.cache', () => {
  it('without the option, algorithms read their origins directly and no cache is started', async () => {
    const read = await runReader(undefined, join(dir, 'plain.bin'));
    expect(read).toEqual({ sha: SHA, endpoint: s3.endpoint, cache: null });
    expect(readFileSync(join(dir, 'plain.bin')).equals(OBJECT)).toBe(true);
    expect(await liveServer(cacheDir)).toBeUndefined();
  });

  it('the second run of a cached pipeline is served by the machine cache, not the origins', async () => {
    const first = await runReader(true, join(dir, 'first.bin'));
    expect(first.sha).toBe(SHA);
    expect(first.endpoint).toBe(first.cache);
    expect(first.endpoint).not.toBe(s3.endpoint);
    const cold = await stats();
    expect(cold.misses).toBeGreaterThan(0);
    expect(cold.bytesFromOrigin).toBeGreaterThanOrEqual(2 * OBJECT.length);
    const originBytes = origin.bytesSent;

    const second = await runReader(true, join(dir, 'second.bin'));
    expect(second.sha).toBe(SHA);
    expect(readFileSync(join(dir, 'second.bin')).equals(OBJECT)).toBe(true);
    const warm = await stats();
    expect(warm.hits).toBeGreaterThan(cold.hits);
    expect(warm.bytesFromCache - cold.bytesFromCache).toBeGreaterThanOrEqual(2 * OBJECT.length);
    expect(warm.bytesFromOrigin).toBe(cold.bytesFromOrigin);
    expect(origin.bytesSent).toBe(originBytes);
  });

  it('a node can switch the cache off for itself', async () => {
    const job = await engine.coordinator.submit({
      name: 'cache-off-node',
      options: { cache: true },
      nodes: [
        { nodeName: 'Read', algorithmName: 's3-reader', input: [BUCKET, 'data/object.bin'], cache: false },
      ],
    });
    const final = await engine.waitForJob(job.jobId);
    expect(final.status).toBe('completed');
    const [read] = await engine.tasks.nodeResults(job.jobId, 'Read');
    expect(read!.result).toMatchObject({ endpoint: s3.endpoint, cache: null });
  });
});
