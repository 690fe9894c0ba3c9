// Options of the local worker pool and the wire messages between the pool and its host processes.
import type { AlgorithmFileInfo } from '../pipeline/types.ts';
import type { Clock } from '../ports/clock.ts';
import type { AlgorithmIsolation } from './algorithm-isolation.ts';
import type { DatasetCacheOptions } from './dataset-cache.ts';

export interface BuiltinModuleRef {
  /** A module URL (file://...) the builtin host imports; `.ts` modules are loaded through tsx. */
  url: string;
  /** The export holding a `BuiltinAlgorithm[]` (e.g. `coreBuiltins`). */
  exportName: string;
}

export interface WorkerPoolOptions {
  /** Where extracted `.tar.gz` code paths are cached (`<cacheDir>/code/<sha256>`). Required. */
  cacheDir: string;
  /** The bytes of uploaded code (`fileInfo`: the object store, BlobCodeStore.fetch). */
  fetchUploadedCode?: (info: AlgorithmFileInfo) => Promise<Buffer>;
  /** Total process slots (hot processes, running commands, builtin hosts). Default: os.availableParallelism(). */
  maxWorkers?: number;
  /**
   * CPUs the pool's processes may count for together (each counts its algorithm's `cpu`, default 1;
   * see task-size.ts). Default: the larger of the machine's CPUs and `maxWorkers`, so `--workers`
   * above the CPU count still runs that many undeclared processes.
   */
  cpus?: number;
  /**
   * `run`: an algorithm with `image` runs through Docker/Podman (container-runtime.ts). `ignore`:
   * its image is ignored and it runs as a local process, as an AWS worker does until algorithms get
   * their own tasks there (docs/aws.md#algorithms-with-an-image). Default `run`.
   */
  images?: 'run' | 'ignore';
  /** MiB of memory the pool's processes may count for together (each its algorithm's `mem`, default 0). Default: the machine's total memory. */
  memoryMiB?: number;
  /**
   * Modules defining the built-in algorithms, imported both by the pool (for names and `ioBound`)
   * and by the builtin host process (to run them). Default: shared/builtins/index.ts `coreBuiltins`.
   */
  builtinModules?: BuiltinModuleRef[];
  /** io-bound builtin tasks one builtin host (one slot) runs at once. Default 8. */
  ioTasksPerHost?: number;
  /** Log lines kept per task (the last ones). Default 1000. */
  maxLogLines?: number;
  /** Log bytes kept per task (the last ones). Default 256 KiB. */
  maxLogBytes?: number;
  /** After SIGTERM, how long a killed process gets before SIGKILL. Default 2000 ms. */
  killGraceMs?: number;
  /** A command's stdout (its JSON result) larger than this fails the task. Default 64 MiB. */
  maxCommandOutputBytes?: number;
  /**
   * A hot process or builtin host idle this long is retired (an algorithm keeps its
   * minHotWorkers). 0 = never. Default 5 minutes.
   */
  idleTimeoutMs?: number;
  /** Python interpreter. Default `python3`. */
  python?: string;
  /** Node.js binary for nodejs algorithms and the builtin host. Default: this process's. */
  node?: string;
  /** Environment of every child process. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Times the node ttl of running tasks. Default: the system clock. */
  clock?: Clock;
  /**
   * The machine's read-through dataset cache for tasks with `options.cache` (started on first
   * need). Absent: such tasks read their origins directly, with a warning in their logs.
   */
  datasetCache?: Omit<DatasetCacheOptions, 'env'>;
  /**
   * What python, nodejs and command algorithms see of this process (no AWS credentials, another
   * uid). Absent: they inherit `env` and this uid (the embedded engine: the user's own machine).
   */
  isolation?: AlgorithmIsolation;
}

/** A snapshot of the pool, for live progress (running / idle / queued) and the dashboard. */
export interface WorkerPoolStats {
  maxWorkers: number;
  /** Slots in use: hot processes (busy or idle), builtin hosts, running commands. */
  usedSlots: number;
  busyProcesses: number;
  idleProcesses: number;
  builtinHosts: number;
  /** Builtin tasks in flight across all hosts. */
  builtinTasks: number;
  commands: number;
  /** run() calls waiting for a slot. */
  queued: number;
}

/** Why the pool ended a task early (see StopSwitch). */
export type StopReason = 'stop' | 'timeout';

/** An exception as a host reports it. */
export interface HostError {
  type: string;
  message: string;
  /** Python traceback or JS stack. */
  trace?: string;
  /** What a typed (Sluice) error carries besides its message: see failure.ts. */
  code?: string;
  retryable?: boolean;
  details?: unknown;
}

/** A host → pool response (one JSON line on fd 4). `fatal`: the process cannot serve more tasks. */
export type HostResponse =
  | { id: number; ok: true; result: unknown; logs?: string[] }
  | { id: number; ok: false; error: HostError; fatal?: boolean; logs?: string[] };
