// Where a worker machine keeps its read-through dataset cache (tasks of pipelines with
// `options.cache`), for every runtime that runs a WorkerPool: the embedded engine, the emulated AWS
// stack and the Fargate worker. The pool starts `sluice cache serve` on the directory at first need.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AWS_ENV } from '../adapters/aws/config.ts';
import { defaultCacheDir } from '../cache/index.ts';
import type { DatasetCacheOptions } from '../runner/dataset-cache.ts';

/** Size cap of the machine's dataset cache unless SLUICE_CACHE_MAX_SIZE says otherwise. */
export const DEFAULT_DATASET_CACHE_SIZE = '10G';

/** bin/sluice.js beside the sources (shared/runtime/) or, compiled, beside dist/ (dist/shared/runtime/). */
const SLUICE_BIN = [
  new URL('../../bin/sluice.js', import.meta.url),
  new URL('../../../bin/sluice.js', import.meta.url),
]
  .map((url) => fileURLToPath(url))
  .find((path) => existsSync(path)) as string;

/** Where a Fargate worker keeps it: the task's ephemeral storage, sized by the workers stack. */
export const WORKER_DATASET_CACHE_DIR = '/tmp/sluice-dataset-cache';

/**
 * SLUICE_CACHE_DIR (else ~/.cache/sluice, as `sluice cache serve`) and SLUICE_CACHE_MAX_SIZE;
 * undefined when SLUICE_CACHE_MAX_SIZE is 0 (no cache on this machine). On an AWS worker the
 * cache signs with the task role, and user algorithms reach it: it refuses the engine's own
 * buckets (blobs, triggers), so they cannot read or rewrite other jobs' values through it.
 */
export function datasetCacheOptions(env: NodeJS.ProcessEnv): Omit<DatasetCacheOptions, 'env'> | undefined {
  if (env.SLUICE_CACHE_MAX_SIZE === '0') return undefined;
  const engineBuckets = [env[AWS_ENV.blobBucket], env[AWS_ENV.triggerBucket]].filter((b): b is string => !!b);
  return {
    dir: defaultCacheDir(env),
    maxSize: env.SLUICE_CACHE_MAX_SIZE || DEFAULT_DATASET_CACHE_SIZE,
    command: [
      process.execPath,
      SLUICE_BIN,
      'cache',
      'serve',
      ...engineBuckets.flatMap((b) => ['--deny-bucket', b]),
    ],
  };
}

/** The worker container's environment for a cache of `gib` GiB (0: none). */
export function datasetCacheEnvironment(gib: number): Record<string, string> {
  if (gib <= 0) return { SLUICE_CACHE_MAX_SIZE: '0' };
  return { SLUICE_CACHE_DIR: WORKER_DATASET_CACHE_DIR, SLUICE_CACHE_MAX_SIZE: `${gib}G` };
}

/** The WorkerPool option for this machine's cache, none when switched off. */
export function withDatasetCache(env: NodeJS.ProcessEnv): {
  datasetCache?: Omit<DatasetCacheOptions, 'env'>;
} {
  const options = datasetCacheOptions(env);
  return options ? { datasetCache: options } : {};
}
