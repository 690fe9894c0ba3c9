// The workers operation: what the engine serving this API is running (the embedded engine), or on
// AWS what the worker tasks reported lately (runtime/aws/worker-reports.ts).
import { SluiceError } from '../errors.ts';
import type { ApiDeps } from './api-deps.ts';

export interface WorkerActivityView {
  /** Worker slots (processes) of this engine. */
  slots?: number;
  running: {
    taskId: string;
    jobId: string;
    nodeName: string;
    batchIndex?: number;
    startedAt: string;
    /** AWS: the worker (ECS task) running it. */
    workerId?: string;
  }[];
  tasksDone: number;
  tasksFailed: number;
  /** Tasks finished per second over the last 10 s. */
  tasksPerSecond: number;
  /**
   * Bytes the built-in IO tasks (cp, zip, rm, fetch) moved, counted as each ends (from the summary
   * it returns), and per second over the last 10 s. Absent where the workers do not report them.
   */
  ioBytes?: number;
  ioBytesPerSecond?: number;
  since: string;
}

export function workers(deps: ApiDeps): WorkerActivityView | Promise<WorkerActivityView> {
  if (!deps.workers) {
    throw new SluiceError('worker activity is reported by `sluice serve` only', 'WORKERS_UNAVAILABLE', 501);
  }
  return deps.workers();
}
