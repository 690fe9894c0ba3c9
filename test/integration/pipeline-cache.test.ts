// `options.cache` end to end on the embedded engine with its real worker pool: the pool starts the
// machine's dataset cache (`sluice cache serve`, a child process) on first need; the second run of
// a pipeline is served from it (test/helpers/pipeline-cache.ts has the scenario).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LocalEngine } from '../../shared/runtime/embedded/local-engine.ts';
import { type CountingOrigin, startCountingOrigin } from '../helpers/counting-origin.ts';
import {
  CACHE_KEY,
  CACHE_OBJECT,
  checkPipelineCache,
  type Read,
  readerAlgorithm,
} from '../helpers/pipeline-cache.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const BUCKET = 'pipeline-cache';
let dir: string;
let engine: LocalEngine;
let s3: S3rverHandle;
let origin: CountingOrigin;
const saved: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-cache-'));
  s3 = await startS3rver([BUCKET]);
  await s3.bulkStore().put(BUCKET, CACHE_KEY, CACHE_OBJECT);
  origin = await startCountingOrigin();
  // The pool's processes (and its cache) inherit this process's environment.
  const env = { ...s3.env, SLUICE_CACHE_DIR: join(dir, 'dataset-cache'), SLUICE_CACHE_MAX_SIZE: '64M' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  engine = await LocalEngine.open({ home: join(dir, 'home'), workers: 2 });
  await engine.registry.putAlgorithm(readerAlgorithm(dir), 'create');
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

it('options.cache on the embedded engine: the second run is served by the machine cache', async () => {
  await checkPipelineCache({
    backend: {
      async run(pipeline) {
        const job = await engine.coordinator.submit(pipeline);
        const final = await engine.waitForJob(job.jobId);
        expect(final.reason).toBeUndefined();
        expect(final.status).toBe('completed');
        const [read] = await engine.tasks.nodeResults(job.jobId, 'Read');
        return read!.result as Read;
      },
    },
    bucket: BUCKET,
    s3Endpoint: s3.endpoint,
    origin,
    cacheDir: join(dir, 'dataset-cache'),
    dir,
  });
}, 120_000);
