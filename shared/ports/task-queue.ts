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

export interface TaskQueue {
  /**
   * Claims up to `max` queued tasks, most urgent first (effective priority, then age), skipping
   * those `accept` refuses (an algorithm at its cap). Claimed tasks are active with attempts+1.
   */
  claim(max: number, accept: (t: QueuedTask) => boolean, at: number): Promise<QueuedTask[]>;
  /** Raises the effective priority of tasks that waited long, so low priority never starves. */
  age(at: number, agingMs: number): Promise<void>;
  depth(): Promise<number>;
  /** Distinct algorithms of queued tasks (so the claimer can load their definitions and caps). */
  queuedAlgorithms(): Promise<string[]>;
  /** Active tasks per algorithm (for per-algorithm maxWorkers). */
  activeByAlgorithm(): Promise<Map<string, number>>;
}
