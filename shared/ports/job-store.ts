// Persistence of jobs and their tasks. Every state change is conditional (a version or status
// check), so a duplicate or late message is a no-op. Implemented on SQLite (embedded) and
// DynamoDB (AWS).
import type { JobState, JobStatus, TaskStatus } from '../engine/types.ts';
import type { AlgorithmDefinition, Pipeline } from '../pipeline/types.ts';

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
  error?: string;
  logs?: string[];
  startedAt?: number;
  finishedAt?: number;
}

export interface TaskFinish {
  status: 'succeeded' | 'failed' | 'stopped';
  /**
   * The run this outcome belongs to, where the queue message is the lease (AWS): the store applies
   * at most one outcome per attempt, and records when it started.
   */
  attempt?: number;
  startedAt?: number;
  result?: unknown;
  error?: string;
  logs?: string[];
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

/** A node's finished tasks, summed from wherever the store counts them. */
export interface NodeTally {
  succeeded: number;
  failed: number;
  stopped: number;
}

export interface JobFilter {
  status?: JobStatus;
  pipelineName?: string;
  limit?: number;
}

export interface JobSummary {
  jobId: string;
  pipelineName: string;
  status: JobStatus;
  priority: number;
  createdAt: number;
  finishedAt?: number;
  reason?: string;
}

export interface JobStore {
  createJob(state: JobState): Promise<void>;
  getJob(jobId: string): Promise<JobState | undefined>;
  /** Writes the state only if the stored version is `expectedVersion`; false on conflict. */
  saveJob(state: JobState, expectedVersion: number): Promise<boolean>;
  listJobs(filter: JobFilter): Promise<JobSummary[]>;
  /** Jobs not in a final status (for recovery and admission). */
  unfinishedJobs(): Promise<JobState[]>;
  countActiveJobs(pipelineName: string): Promise<number>;

  /** Inserts tasks that do not exist yet (same taskId = no-op); returns how many were new. */
  insertTasks(tasks: NewTask[]): Promise<number>;
  getTask(taskId: string): Promise<TaskRecord | undefined>;
  /** Marks an active task finished; false if it was not active (duplicate or stopped). */
  finishTask(taskId: string, finish: TaskFinish): Promise<boolean>;
  /**
   * Optional: stores that keep node counters outside the job record (DynamoDB: sharded counter
   * items) count a task that `finishTask` just finished and return the node's new totals. The
   * Coordinator then writes the job record only when something besides a counter changes, so a
   * 100,000-item fan-in does not make the job record a hot item. Stores without it (SQLite) have
   * their counters incremented by the job transition itself.
   */
  countFinished?(task: TaskRecord, outcome: 'succeeded' | 'failed' | 'stopped'): Promise<NodeTally>;
  /** Puts an active task back in the queue for another attempt; false if it was not active. */
  requeueTask(taskId: string, at: number, attempt?: number): Promise<boolean>;
  /** Stops every queued or active task of a job; returns the ids of those that were active. */
  stopTasks(jobId: string, reason: string, at: number): Promise<string[]>;
  /** Per-node counts from the task records (the source of truth when reconciling). */
  nodeCounts(jobId: string): Promise<Record<string, NodeCounts>>;
  /** Results of a node's tasks ordered by batchIndex. */
  nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]>;
  itemResult(jobId: string, nodeName: string, batchIndex: number): Promise<ItemResult | undefined>;
  listTasks(jobId: string, nodeName?: string): Promise<TaskRecord[]>;
  /** Copies the finished task records (results) of some nodes from one job to another. */
  copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void>;

  saveResults(jobId: string, results: unknown): Promise<void>;
  getResults(jobId: string): Promise<unknown | undefined>;

  putPipeline(p: Pipeline, mode: 'create' | 'update' | 'upsert'): Promise<void>;
  getPipeline(name: string): Promise<Pipeline | undefined>;
  listPipelines(): Promise<Pipeline[]>;
  deletePipeline(name: string): Promise<boolean>;

  putAlgorithm(a: AlgorithmDefinition, mode: 'create' | 'update' | 'upsert'): Promise<void>;
  getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined>;
  listAlgorithms(): Promise<AlgorithmDefinition[]>;
  deleteAlgorithm(name: string): Promise<boolean>;
}
