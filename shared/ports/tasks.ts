// Persistence of a job's tasks: one record per task (per batch item), the source of truth for
// what ran and what it produced. Finishing a task counts it in its node's tally, so fan-in needs
// no giant record and no read of every item.
import type { TaskOutcomeKind, TaskStatus } from './job-state.ts';
import type { TaskFailure } from './task-failure.ts';
import type { TaskLogs } from './task-logs.ts';

export interface NewTask {
  taskId: string;
  jobId: string;
  nodeName: string;
  batchIndex?: number;
  algorithmName: string;
  pipelineName: string;
  priority: number;
  input: unknown[];
  queuedAt: number;
}

export interface TaskRecord extends NewTask {
  status: TaskStatus;
  attempts: number;
  result?: unknown;
  /** The failure as text (kept for compatibility: `failure` has its type and details). */
  error?: string;
  failure?: TaskFailure;
  logs?: TaskLogs;
  startedAt?: number;
  finishedAt?: number;
}

export interface TaskFinish {
  status: TaskOutcomeKind;
  /**
   * The run this outcome belongs to, where the queue message is the lease (AWS): the store applies
   * at most one outcome per attempt, and records when it started.
   */
  attempt?: number;
  startedAt?: number;
  result?: unknown;
  error?: string;
  failure?: TaskFailure;
  logs?: TaskLogs;
  at: number;
}

export interface ItemResult {
  batchIndex?: number;
  status: TaskStatus;
  result?: unknown;
  error?: string;
}

export interface NodeCounts {
  created: number;
  queued: number;
  active: number;
  succeeded: number;
  failed: number;
  stopped: number;
}

/** A node's finished tasks, as the store counts them. */
export interface NodeTally {
  succeeded: number;
  failed: number;
  stopped: number;
}

/** A page of one node's tasks, in batchIndex order (`TaskStore.pageTasks`). */
export interface TaskPageQuery {
  /** Only tasks with a greater batchIndex: the last one of the previous page. */
  after?: number;
  limit: number;
  status?: TaskStatus;
  /** Leave out input, result and logs (the rows of a table; read one task for them). */
  summary?: boolean;
}

/** A task record as a page returns it: without input, result and logs when `summary` was asked. */
export type TaskPageRecord = Omit<TaskRecord, 'input'> & { input?: unknown[] };

/** Reading one task. */
export interface TaskReader {
  getTask(taskId: string): Promise<TaskRecord | undefined>;
}

/** What a lease holder checks while its task runs: whether the task was stopped meanwhile. */
export interface TaskLeaseReader {
  taskLease(taskId: string): Promise<{ status: TaskStatus; attempts: number } | undefined>;
}

export interface TaskStore extends TaskReader, TaskLeaseReader {
  /** Those of `taskIds` that exist, in any order: one batched read (a client waiting on many tasks). */
  getTasks(taskIds: string[]): Promise<TaskRecord[]>;
  /**
   * Those of `taskIds` that exist, with only their job and status: what a wait looks at on every
   * round (decoding inputs and results of every awaited task each time showed in profiles).
   */
  taskStatuses(taskIds: string[]): Promise<Pick<TaskRecord, 'taskId' | 'jobId' | 'status'>[]>;
  /** Inserts tasks that do not exist yet (same taskId = no-op); returns how many were new. */
  insertTasks(tasks: NewTask[]): Promise<number>;
  /**
   * Records a task's outcome if it is still running (or, with `attempt`, if that attempt was not
   * applied yet), counts it in its node's tally, and returns the node's tally including it.
   * Undefined when the outcome did not apply (a duplicate, or the task was stopped).
   */
  finishTask(taskId: string, finish: TaskFinish): Promise<NodeTally | undefined>;
  /** Puts an active task back in the queue for another attempt; false if it was not active. */
  requeueTask(taskId: string, at: number, attempt?: number): Promise<boolean>;
  /** Stops every queued or active task of a job; returns the ids of those that were active. */
  stopTasks(jobId: string, reason: string, at: number): Promise<string[]>;
  /**
   * Per-node counts from the task records (the source of truth when reconciling). `maxAgeMs`: a
   * display (exec/status) may take counts this process read that recently (a store that counts
   * from its own records ignores it); decisions never pass it.
   */
  nodeCounts(jobId: string, opts?: { maxAgeMs?: number }): Promise<Record<string, NodeCounts>>;
  /** Recounts the job's node tallies from its task records (after a crash between two writes). */
  rebuildTallies(jobId: string): Promise<void>;
  /** Results of a node's tasks ordered by batchIndex. */
  nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]>;
  itemResult(jobId: string, nodeName: string, batchIndex: number): Promise<ItemResult | undefined>;
  listTasks(jobId: string, nodeName?: string): Promise<TaskRecord[]>;
  /** A page of a node's tasks, reading only that page (100,000-task nodes are paged, never loaded). */
  pageTasks(jobId: string, nodeName: string, q: TaskPageQuery): Promise<TaskPageRecord[]>;
  /** Copies the finished task records (results) of some nodes from one job to another. */
  copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void>;
}
