// The queue of tasks ready to run: priority (5 most urgent) with aging, then age. Claiming takes a
// task for one run; caps are enforced by the claimer's `accept` callback (and, where many
// claimers share a cap, by the queue's SlotLimits).

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
   * capacity left). Claimed tasks count one more attempt.
   */
  claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<ClaimedTask[]>;
  /**
   * Makes newly inserted or re-queued tasks claimable (SQS: sends them to the queue of their
   * priority; SQLite: the task table is the queue, inserting was enough).
   */
  enqueue(tasks: QueuedTask[]): Promise<void>;
  /**
   * The claimer is done with a claimed task (its outcome was reported): drop the lease (SQS:
   * delete the message, stop its heartbeat, give back its maxWorkers slot).
   */
  settle(t: ClaimedTask): Promise<void>;
  /**
   * Gives a claimed task back unrun (its job is paused): it is claimable again (SQS: after
   * `delayMs`), and the claim does not count as an attempt. Instead of settle().
   */
  release(t: ClaimedTask, delayMs: number): Promise<void>;
  /**
   * Where maxWorkers is a shared semaphore (SQS: SlotLimits), gives the task's slot back before it
   * settles: the task waits on children it started (code API), which may need that slot. Where
   * absent, the dispatcher leaves waiting tasks out of its own maxWorkers count instead.
   */
  releaseSlot?(t: ClaimedTask): Promise<void>;
  /**
   * Resolves once the claims made so far would survive a crash. The dispatcher waits for it before
   * starting claimed tasks, so a task never runs unless its claim (status, attempt) is durable,
   * and a crash retries it by its policy instead of silently running it again.
   */
  durable(): Promise<void>;
  /**
   * Priority aging: tasks that waited `agingMs` per level are raised to their effective priority,
   * so low priority never starves. Returns how many tasks moved up.
   */
  age(at: number, agingMs: number): Promise<number>;
  depth(): Promise<number>;
  /** Distinct algorithms of queued tasks (so the claimer can load their definitions and caps). */
  queuedAlgorithms(): Promise<string[]>;
  /** Running tasks per algorithm as this queue sees them (for per-algorithm maxWorkers). */
  activeByAlgorithm(): Promise<Map<string, number>>;
  /**
   * Claims whose holder is gone (the process that claimed them died): recovery reports them as
   * crashed. Queues whose lease expires by itself (SQS) report none: the message comes back.
   */
  lostClaims(): Promise<QueuedTask[]>;
  /**
   * True when no task is waiting or running anywhere and no outcome is in flight: then the stored
   * task records are all there is, and recovery may recount and re-send what a crash left behind.
   */
  quiet(): Promise<boolean>;
}
