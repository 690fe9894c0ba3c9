// The engine's vocabulary: the events applied to a job and the effects a transition asks for.
// The state they act on (JobState, NodeState, statuses) lives with the ports (ports/job-state.ts).
import type { ProgressLevel } from '../pipeline/types.ts';
import type { ChildJobRef } from '../ports/code-api.ts';
import type { JobState, JobStatus, TaskOutcomeKind } from '../ports/job-state.ts';
import type { TaskFailure } from '../ports/task-failure.ts';

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
      /** Unsealed part of a split expansion: its items before this index exist (a checkpoint). */
      through?: number;
      /**
       * With `through`: the batch's size, known before all its parts exist. The node's total is
       * set at once, so item outcomes need no job write until the last one (and the node cannot
       * complete before every part exists: its items are counted against the whole batch).
       */
      total?: number;
      skipped?: string;
      at: number;
    }
  | {
      type: 'taskFinished';
      node: string;
      batchIndex?: number;
      outcome: TaskOutcomeKind;
      error?: string;
      failure?: TaskFailure;
      /**
       * The node's finished counts including this task, as the task store tallied them
       * (TaskStore.finishTask): the transition takes the larger of these and its own counters
       * instead of incrementing, so applying it twice or out of order cannot double-count. Absent
       * for a failure that is not a task record's (a bad input reference at expansion).
       */
      counts?: { succeeded: number; failed: number; stopped: number };
      at: number;
    }
  | { type: 'taskRetried'; node: string; at: number }
  /**
   * The job's unfinished tasks were stopped (after it stopped or failed): each node's stopped count
   * as the task store has it, so the job's counts add up (the transition takes the larger value).
   */
  | { type: 'tasksStopped'; stopped: Record<string, number>; at: number }
  /** A dynamic job's client adds `count` tasks to `node` (their batch indices follow `created`). */
  | { type: 'tasksAdded'; node: string; count: number; at: number }
  /**
   * A dynamic job's client closes it: no more tasks. `created` is each node's task count as the
   * task store has it; `failed` is the client's reason when its own run failed.
   */
  | { type: 'closed'; created: Record<string, number>; failed?: string; at: number }
  | { type: 'stop'; reason: string; at: number }
  /** No new task of the job starts until `resume`; running tasks finish. */
  | { type: 'pause'; at: number }
  | { type: 'resume'; at: number }
  /** A task of the job started a child job through the code API (ports/code-api.ts). */
  | { type: 'childStarted'; child: ChildJobRef; at: number };

export type EngineEffect =
  /** Create the node's tasks (or all currently available items of a streaming node). */
  | { type: 'expand'; node: string }
  /** Create the streaming child's item for parent item `batchIndex`, if all its parents have it. */
  | { type: 'expandItem'; node: string; batchIndex: number }
  /** Stop every unfinished task of the job. */
  | { type: 'stopTasks'; reason: string }
  /** The job reached a final status: send the result webhook, fire triggers, admit waiting jobs. */
  | { type: 'finished'; status: JobStatus; reason?: string }
  | { type: 'progress'; level: ProgressLevel; message: string };

export interface Transition {
  state: JobState;
  effects: EngineEffect[];
}
