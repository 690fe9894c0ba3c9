// Where a worker machine keeps its read-through dataset cache (tasks of pipelines with
// `options.cache`), for every runtime that runs a WorkerPool: the embedded engine, the emulated AWS
// stack and the Fargate worker. The pool starts `sluice cache serve` on the directory at first need.
import { fileURLToPath } from 'node:url';
import { defaultCacheDir } from '../cache/index.ts';
import type { DatasetCacheOptions } from '../runner/dataset-cache.ts';

/** Size cap of the machine's dataset cache unless SLUICE_CACHE_MAX_SIZE says otherwise. */
export const DEFAULT_DATASET_CACHE_SIZE = '10G';

const SLUICE_BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

/** SLUICE_CACHE_DIR (else ~/.cache/sluice, as `sluice cache serve`) and SLUICE_CACHE_MAX_SIZE. */
export function datasetCacheOptions(env: NodeJS.ProcessEnv): Omit<DatasetCacheOptions, 'env'> {
  return {
    dir: defaultCacheDir(env),
    maxSize: env.SLUICE_CACHE_MAX_SIZE || DEFAULT_DATASET_CACHE_SIZE,
    command: [process.execPath, SLUICE_BIN, 'cache', 'serve'],
  };
}
