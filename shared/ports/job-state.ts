// The state of a job as every port stores it: one compact record per job with per-node counters;
// per-task records live beside it (ports/tasks.ts), so a 100,000-item batch never becomes one
// giant record. The engine's transitions (shared/engine) are the only code that changes it.
import type { Pipeline } from '../pipeline/types.ts';
import type { ChildJobRef } from './code-api.ts';
import type { NodeStates } from './node-states.ts';

export type JobStatus = 'pending' | 'active' | 'completed' | 'failed' | 'stopped';
export type NodeStatus = 'pending' | 'active' | 'succeeded' | 'failed' | 'skipped' | 'stopped';
export type TaskStatus = 'queued' | 'active' | 'succeeded' | 'failed' | 'stopped';
/** How a task's run ended, as it is recorded and counted. */
export type TaskOutcomeKind = 'succeeded' | 'failed' | 'stopped';

export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'stopped'];
export const FINAL_NODE_STATUSES: readonly NodeStatus[] = ['succeeded', 'failed', 'skipped', 'stopped'];
export const FINAL_TASK_STATUSES: readonly TaskStatus[] = ['succeeded', 'failed', 'stopped'];

export interface NodeState {
  status: NodeStatus;
  /** Batch node (fan-out): counts are per item. */
  batch: boolean;
  /** Tasks created so far. */
  created: number;
  /** Final number of tasks, once known (set when the node is expanded / sealed). */
  total?: number;
  succeeded: number;
  failed: number;
  stopped: number;
  /** Retries so far (for progress). */
  retried: number;
  /** Why it was skipped or failed. */
  reason?: string;
  /**
   * Items of a batch whose expansion is split across invocations (AWS: `expandMaxItems`) created
   * so far: the next invocation starts at this index. Unset once the node is sealed.
   */
  expandedItems?: number;
}

/** How a job started (`pipeline`: as the sub-job of a pipeline node of `parentJobId`). */
export interface JobOrigin {
  kind: 'api' | 'cli' | 'trigger' | 'cron' | 's3' | 'rerun' | 'caching' | 'pipeline' | 'algorithm';
  parentJobId?: string;
  /**
   * kinds 'trigger' and 'pipeline': how many triggers and pipeline nodes led to it from a job
   * started otherwise (1 = one); a chain ends past MAX_CHAIN_DEPTH (pipeline/pipeline-cycles.ts).
   */
  triggerDepth?: number;
  /** kinds 'algorithm' and 'pipeline': the task that started this job, and its node. */
  parentTaskId?: string;
  parentNode?: string;
}

export interface JobState {
  jobId: string;
  pipeline: Pipeline;
  status: JobStatus;
  /** Why the job failed or was stopped. */
  reason?: string;
  /** Every node's state, in the DAG's order. */
  nodes: NodeStates;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /**
   * False while the job waits for a `concurrentPipelines` slot (status stays pending, nothing is
   * expanded); set when it is admitted.
   */
  admitted: boolean;
  /**
   * Paused by a user (exec/pause): no new task of the job starts; running ones finish. Cleared by
   * exec/resume.
   */
  paused?: boolean;
  /** Optimistic-concurrency version: every write checks it. */
  version: number;
  /** Job that triggered this one (pipeline triggers), or how it started. */
  origin?: JobOrigin;
  /**
   * Set on a dynamic ("open") job: its tasks are added by its client (engine/dynamic-tasks.ts),
   * not expanded from inputs, and it ends when the client closes it (`closed`) and they are done.
   */
  dynamic?: { closed: boolean };
  /** Jobs its tasks started through the code API (ports/code-api.ts); stopping this job stops them. */
  children?: ChildJobRef[];
  /**
   * The version of each algorithm the job runs (name → version id), recorded when it is submitted:
   * its tasks run these definitions even if another version is applied or restored meanwhile.
   */
  algorithmVersions?: Record<string, string>;
}

/**
 * A node's counts raised to what the task store counted (recovery and reconcile: the store is the
 * truth, and a count never goes down).
 */
export function raisedToTally(
  n: NodeState,
  t: { succeeded: number; failed: number; stopped: number; created?: number },
): NodeState {
  return {
    ...n,
    succeeded: Math.max(n.succeeded, t.succeeded),
    failed: Math.max(n.failed, t.failed),
    stopped: Math.max(n.stopped, t.stopped),
    ...(t.created !== undefined ? { created: Math.max(n.created, t.created) } : {}),
  };
}

export function isNodeFinal(n: { status: NodeStatus }): boolean {
  return FINAL_NODE_STATUSES.includes(n.status);
}

export function isJobFinal(s: { status: JobStatus }): boolean {
  return FINAL_JOB_STATUSES.includes(s.status);
}

/** The nodes whose state `after` replaced (transitions copy only the nodes they touch). */
export function changedNodes(before: JobState, after: JobState): string[] {
  return after.nodes.changedSince(before.nodes);
}
