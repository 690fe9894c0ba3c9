// The queue of tasks ready to run: priority (5 most urgent) with aging, then age. Claiming moves a
// task to active; caps are enforced by the claimer's `accept` callback.

export interface QueuedTask {
  taskId: string;
  jobId: string;
  nodeName: string;
  algorithmName: string;
  priority: number;
  queuedAt: number;
  /**
   * Carried by queues whose message is the task (SQS): what a worker needs to run it without a
   * read. `attempt` is the run number this message starts (1 = first run).
   */
  batchIndex?: number;
  pipelineName?: string;
  input?: unknown[];
  attempt?: number;
}

/** A claimed task as the claimer sees it; `lease` is adapter data (e.g. an SQS receipt handle). */
export interface ClaimedTask extends QueuedTask {
  lease?: unknown;
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
  claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<ClaimedTask[]>;
  /**
   * Makes newly inserted or re-queued tasks claimable. A no-op where the store is the queue
   * (SQLite); on AWS it sends them to the SQS queue of their priority.
   */
  enqueue(tasks: QueuedTask[]): Promise<void>;
  /**
   * The claimer is done with a claimed task (its outcome was reported): drop the lease (AWS:
   * delete the SQS message, stop its heartbeat). A no-op where claiming is the whole lease.
   */
  settle(t: ClaimedTask): Promise<void>;
  /**
   * Resolves once the claims made so far would survive a crash. The dispatcher waits for it before
   * starting claimed tasks, so a task never runs unless its claim (status, attempt) is durable, and
   * a crash retries it by its policy instead of silently running it again. Optional: queues whose
   * writes are durable when they return need not implement it.
   */
  durable?(): Promise<void>;
  /** Raises the effective priority of tasks that waited long, so low priority never starves. */
  age(at: number, agingMs: number): Promise<void>;
  depth(): Promise<number>;
  /** Distinct algorithms of queued tasks (so the claimer can load their definitions and caps). */
  queuedAlgorithms(): Promise<string[]>;
  /** Active tasks per algorithm (for per-algorithm maxWorkers). */
  activeByAlgorithm(): Promise<Map<string, number>>;
}
