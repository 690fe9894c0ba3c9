// The port between the engine and whatever executes tasks: local processes (embedded) or
// container tasks (AWS). The engine hands over a fully resolved task and gets back an outcome.
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { CodeApiSession } from './code-api.ts';
import type { TaskFailure } from './task-failure.ts';
import type { TaskLogs } from './task-logs.ts';

export interface TaskInfo {
  jobId: string;
  taskId: string;
  nodeName: string;
  batchIndex?: number;
  extraData?: unknown;
  pipelineName: string;
}

export interface TaskSpec {
  info: TaskInfo;
  /** The algorithm to run: a registered definition, or a built-in by name (env 'builtin'). */
  algorithm: AlgorithmDefinition | { name: string; env: 'builtin' };
  /** The node's resolved input array (`args.input`). */
  input: unknown[];
  /** Node ttl: the task is killed and fails after this many ms. */
  timeoutMs?: number;
  /**
   * Read S3 and HTTP(S) through the runner's read-through dataset cache (`options.cache` of the
   * pipeline or the node). A runner without a cache runs the task as usual.
   */
  cache?: boolean;
  /** HKube's code API (`start(args, hkubeApi)`), where the engine offers it to this task. */
  codeApi?: CodeApiSession;
}

export type TaskOutcome =
  | { status: 'succeeded'; result: unknown; logs: TaskLogs }
  /**
   * `crashed` = the process running it died (or was lost), as opposed to the algorithm reporting
   * an error (exception, non-zero exit, bad output). Retry policy OnCrash retries only crashes.
   */
  | {
      status: 'failed';
      /** The full text: headline, traceback or stack tail, stderr tail. */
      error: string;
      /** The failure as data (type, retryable, details). */
      failure: TaskFailure;
      crashed: boolean;
      /** Killed because it exceeded `timeoutMs` (node ttl). */
      timedOut?: boolean;
      /** Ended because the run's AbortSignal fired (a stop). */
      stopped?: boolean;
      logs: TaskLogs;
    };

export interface TaskRunner {
  /** Runs one task; resolves with its outcome (never rejects for task failures). Abort = stop. */
  run(task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome>;
  /**
   * How many more tasks of this algorithm could start right now without waiting. A task counts
   * from the first line of run(), before any await: the dispatcher stops counting it there.
   */
  freeSlots(algorithmName: string, ioBound: boolean): number;
  /** Tasks of io-bound built-ins that share one slot (a worker counts its room so; default 8). */
  readonly ioTasksPerSlot?: number;
  close(): Promise<void>;
}
