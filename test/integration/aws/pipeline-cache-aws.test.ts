// `options.cache` on the AWS path (emulators): the worker's WorkerPool starts the machine's dataset
// cache as the Fargate worker does, a Python algorithm reads the emulated S3 through it, and the
// second run is served from it (test/helpers/pipeline-cache.ts has the scenario).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, it } from 'vitest';
import { createBulkS3ObjectStore } from '../../../shared/adapters/aws/s3-bulk-store.ts';
import { createS3Client } from '../../../shared/adapters/aws/s3-client.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { awsExecution } from '../../conformance/aws-execution.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { type CountingOrigin, startCountingOrigin } from '../../helpers/counting-origin.ts';
import {
  CACHE_KEY,
  CACHE_OBJECT,
  checkPipelineCache,
  type Read,
  readerAlgorithm,
} from '../../helpers/pipeline-cache.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let origin: CountingOrigin;
let dir: string;
const saved: NodeJS.ProcessEnv = {};
const dataBucket = () => `${bed.prefix}-data`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-pipeline-cache-aws-'));
  bed = await startAwsTestBed('cache');
  origin = await startCountingOrigin();
  // The worker pool's processes (and its cache) inherit this process's environment.
  const env = { SLUICE_CACHE_DIR: join(dir, 'dataset-cache'), SLUICE_CACHE_MAX_SIZE: '64M' };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  // A data bucket of the user's: the worker's cache refuses the engine's own buckets.
  const s3 = createS3Client(process.env);
  await s3.send(new CreateBucketCommand({ Bucket: dataBucket() }));
  s3.destroy();
  await createBulkS3ObjectStore(process.env).put(dataBucket(), CACHE_KEY, CACHE_OBJECT);
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    slots: 2,
    s3PollMs: 0,
    onError: () => {},
  });
  await stack.engine.registry.putAlgorithm(readerAlgorithm(dir), 'create');
});

afterAll(async () => {
  await stack?.close();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await origin?.stop();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('options.cache on the AWS adapters: the second run is served by the worker machine cache', async () => {
  const run = awsExecution(stack);
  await checkPipelineCache({
    backend: {
      async run(pipeline) {
        const r = await run(pipeline as never);
        if (r.status !== 'completed') throw new Error(`job ${r.status}: ${r.reason}`);
        const [read] = await r.items('Read');
        return read!.result as Read;
      },
    },
    bucket: dataBucket(),
    s3Endpoint: process.env.AWS_ENDPOINT_URL_S3 as string,
    origin,
    cacheDir: join(dir, 'dataset-cache'),
    dir,
  });
}, 120_000);
