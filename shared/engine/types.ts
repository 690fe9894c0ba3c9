// The engine's state and vocabulary, shared by both backends. A job's state is compact (one record
// per job with per-node counters); per-task records live beside it, so a 100,000-item batch never
// becomes one giant record.
import type { Pipeline, ProgressLevel } from '../pipeline/types.ts';

export type JobStatus = 'pending' | 'active' | 'completed' | 'failed' | 'stopped';
export type NodeStatus = 'pending' | 'active' | 'succeeded' | 'failed' | 'skipped' | 'stopped';
export type TaskStatus = 'queued' | 'active' | 'succeeded' | 'failed' | 'stopped';

export const FINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'stopped'];
export const FINAL_NODE_STATUSES: readonly NodeStatus[] = ['succeeded', 'failed', 'skipped', 'stopped'];

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
}

export interface JobState {
  jobId: string;
  pipeline: Pipeline;
  status: JobStatus;
  /** Why the job failed or was stopped. */
  reason?: string;
  nodes: Record<string, NodeState>;
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /**
   * False while the job waits for a `concurrentPipelines` slot (status stays pending, nothing is
   * expanded); set when it is admitted.
   */
  admitted: boolean;
  /** Optimistic-concurrency version: every write checks it. */
  version: number;
  /** Job that triggered this one (pipeline triggers), or how it started. */
  origin?: { kind: 'api' | 'cli' | 'trigger' | 'cron' | 's3' | 'rerun' | 'caching'; parentJobId?: string };
}

export type TaskOutcomeKind = 'succeeded' | 'failed' | 'stopped';

/** What happens to a job. Task-level retries are decided before the engine sees an outcome. */
export type EngineEvent =
  /** Admitted to run (immediately, or when a concurrentPipelines slot freed): roots expand. */
  | { type: 'submitted'; at: number }
  | { type: 'started'; at: number }
  | {
      type: 'expanded';
      node: string;
      /** Tasks created by this expansion (cumulative count after it). */
      created: number;
      /** Set when the node will get no more tasks (always, except streaming nodes). */
      sealed: boolean;
      skipped?: string;
      at: number;
    }
  | {
      type: 'taskFinished';
      node: string;
      batchIndex?: number;
      outcome: TaskOutcomeKind;
      error?: string;
      /**
       * The node's finished counts including this task, where the store counts them itself
       * (JobStore.countFinished): the transition takes the larger of these and its own counters
       * instead of incrementing, so applying it twice or out of order cannot double-count.
       */
      counts?: { succeeded: number; failed: number; stopped: number };
      at: number;
    }
  | { type: 'taskRetried'; node: string; at: number }
  | { type: 'stop'; reason: string; at: number };

export type EngineEffect =
  /** Create the node's tasks (or all currently available items of a streaming node). */
  | { type: 'expand'; node: string }
  /** Create the streaming child's item for parent item `batchIndex`, if all its parents have it. */
  | { type: 'expandItem'; node: string; batchIndex: number }
  /** Stop every unfinished task of the job. */
  | { type: 'stopTasks'; reason: string }
  /** The job reached a final status: store results, send the result webhook, fire triggers. */
  | { type: 'finished'; status: JobStatus; reason?: string }
  | { type: 'progress'; level: ProgressLevel; message: string };

export interface Transition {
  state: JobState;
  effects: EngineEffect[];
}
