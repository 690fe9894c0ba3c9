// The queue of tasks ready to run: priority (5 most urgent) with aging, then age. Claiming moves a
// task to active; caps are enforced by the claimer's `accept` callback.

export interface QueuedTask {
  taskId: string;
  jobId: string;
  nodeName: string;
  algorithmName: string;
  priority: number;
  queuedAt: number;
}

export type ClaimDecision = 'take' | 'skip' | 'stop';

/** How far a claim looks past skipped tasks for runnable ones. */
export const CLAIM_SCAN_LIMIT = 2048;

export interface TaskQueue {
  /**
   * Claims up to `max` queued tasks, most urgent first (effective priority, then age). `accept`
   * answers per candidate: take it, skip it (its algorithm is at its cap), or stop the scan (no
   * capacity left). Claimed tasks are active with attempts+1.
   */
  claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<QueuedTask[]>;
  /** Raises the effective priority of tasks that waited long, so low priority never starves. */
  age(at: number, agingMs: number): Promise<void>;
  depth(): Promise<number>;
  /** Distinct algorithms of queued tasks (so the claimer can load their definitions and caps). */
  queuedAlgorithms(): Promise<string[]>;
  /** Active tasks per algorithm (for per-algorithm maxWorkers). */
  activeByAlgorithm(): Promise<Map<string, number>>;
}
