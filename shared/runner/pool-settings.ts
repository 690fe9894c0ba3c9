// The worker pool's options checked and completed with their defaults (types.ts documents each),
// and the built-in modules every pool offers unless told otherwise.
import { availableParallelism, totalmem } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../errors.ts';
import { systemClock } from '../ports/clock.ts';
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_IO_TASKS_PER_HOST,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_MAX_COMMAND_OUTPUT_BYTES,
  DEFAULT_MAX_LOG_BYTES,
  DEFAULT_MAX_LOG_LINES,
} from './constants.ts';
import type { BuiltinModuleRef, WorkerPoolOptions } from './types.ts';

/**
 * `.ts` when this module runs from the sources, `.js` when it runs from the build in dist/: the
 * builtin host must import the same kind of code (from dist it then needs no TypeScript loader).
 */
const OWN_EXTENSION = extname(fileURLToPath(import.meta.url));

/** The built-ins every pool offers unless told otherwise. */
export const CORE_BUILTIN_MODULES: readonly BuiltinModuleRef[] = [
  {
    url: new URL(`../builtins/index${OWN_EXTENSION}`, import.meta.url).href,
    exportName: 'coreBuiltins',
  },
];

export type PoolSettings = Required<
  Omit<WorkerPoolOptions, 'cacheDir' | 'datasetCache' | 'fetchUploadedCode' | 'isolation'>
>;

export function poolSettings(options: WorkerPoolOptions): PoolSettings {
  const count = (name: keyof WorkerPoolOptions, min: number) => {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= min)) {
      throw new ValidationError(
        `worker pool: ${name} must be an integer >= ${min}, got ${String(value)}`,
        name,
      );
    }
  };
  count('maxWorkers', 1);
  count('ioTasksPerHost', 1);
  for (const name of [
    'maxLogLines',
    'maxLogBytes',
    'killGraceMs',
    'maxCommandOutputBytes',
    'idleTimeoutMs',
  ] as const) {
    count(name, 0);
  }
  for (const name of ['cpus', 'memoryMiB'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isFinite(value) && value > 0)) {
      throw new ValidationError(`worker pool: ${name} must be a number > 0, got ${String(value)}`, name);
    }
  }
  const maxWorkers = options.maxWorkers ?? availableParallelism();
  return {
    maxWorkers,
    images: options.images ?? 'run',
    cpus: options.cpus ?? Math.max(availableParallelism(), maxWorkers),
    memoryMiB: options.memoryMiB ?? totalmem() / 2 ** 20,
    builtinModules: options.builtinModules ?? [...CORE_BUILTIN_MODULES],
    ioTasksPerHost: options.ioTasksPerHost ?? DEFAULT_IO_TASKS_PER_HOST,
    maxLogLines: options.maxLogLines ?? DEFAULT_MAX_LOG_LINES,
    maxLogBytes: options.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    maxCommandOutputBytes: options.maxCommandOutputBytes ?? DEFAULT_MAX_COMMAND_OUTPUT_BYTES,
    python: options.python ?? 'python3',
    node: options.node ?? process.execPath,
    env: options.env ?? process.env,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    clock: options.clock ?? systemClock,
  };
}
