// What the REST API's operations need of the engine: its ports, a way to start and stop jobs, and
// the cron scheduler where one runs. assembleEngine() builds one; tests may build their own.

import type { AlgorithmDefinition } from '../pipeline/types.ts';
import type { CodeStore } from '../ports/code-store.ts';
import type { DebugSessions } from '../ports/debug-sessions.ts';
import type { DynamicTaskRef, DynamicTaskRequest, DynamicTaskState } from '../ports/dynamic-tasks.ts';
import type { JobOrigin, JobState } from '../ports/job-state.ts';
import type { JobStore } from '../ports/jobs.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { Registry } from '../ports/registry.ts';
import type { TaskStore } from '../ports/tasks.ts';
import type { LiveEvents } from './live-events.ts';
import type { PolledEventsOptions } from './polled-events.ts';
import type { WorkerActivityView } from './workers.ts';

export interface CronControl {
  list(): Promise<{ name: string; pattern: string; enabled: boolean; nextRun?: string }[]>;
  /**
   * Re-reads stored pipelines and (re)schedules their cron triggers. `changed` names the pipelines
   * just stored or deleted: a backend whose schedules live elsewhere (AWS) rewrites only theirs
   * (and creates missing ones, deletes strays); without it, every schedule is rewritten.
   */
  refresh(changed?: string[]): Promise<void>;
}

/** How the API starts and stops jobs (the engine's Coordinator). */
export interface JobControl {
  submit(
    raw: unknown,
    opts?: {
      flowInput?: Record<string, unknown>;
      options?: Record<string, unknown>;
      priority?: number;
      origin?: JobOrigin;
      /** The caller's id for the job; creating it twice is a ConflictError. */
      jobId?: string;
      dynamic?: boolean;
    },
  ): Promise<JobState>;
  /** Dynamic jobs (see shared/engine/dynamic-tasks.ts). */
  addDynamicTasks(jobId: string, nodeName: string, tasks: DynamicTaskRequest[]): Promise<DynamicTaskRef[]>;
  closeDynamicJob(jobId: string, failed?: string): Promise<JobState>;
  waitForDynamicTasks(jobId: string, taskIds: string[], timeoutMs: number): Promise<DynamicTaskState[]>;
  submitCaching(jobId: string, nodeName: string): Promise<JobState>;
  stop(jobId: string, reason?: string): Promise<JobState>;
  /** Pauses (no new task starts, running ones finish) or resumes a job. */
  setPaused(jobId: string, paused: boolean): Promise<JobState>;
}

export interface ApiDeps {
  jobs: JobStore;
  tasks: TaskStore;
  registry: Registry;
  control: JobControl;
  /** Algorithms built into the engine: their names cannot be registered. */
  builtins: ReadonlyMap<string, unknown>;
  notifier?: Notifier;
  cron?: CronControl;
  /** The live event stream (where the engine runs in this process: `sluice serve`). */
  events?: LiveEvents;
  /** Without `events`: serve the stream as bounded responses read from the job records (AWS). */
  polledEvents?: PolledEventsOptions;
  /** What the workers run: this engine's (`sluice serve`), or what they reported (AWS). */
  workers?: () => WorkerActivityView | Promise<WorkerActivityView>;
  /** Debug sessions (`sluice debug`), where the API and the dispatcher share a process. */
  debug?: DebugSessions;
  /** Where uploaded code archives go (`code/<sha256>.<ext>`), read by the workers. */
  codeStore?: CodeStore;
  /** Told when stored algorithms change (the dispatcher caches definitions). */
  onAlgorithmsChanged?: () => void;
  /**
   * Called with a valid algorithm before it is stored; a throw refuses it (nothing is stored). AWS:
   * registers the task definition of an algorithm with an image (adapters/aws/algorithm-images.ts).
   */
  prepareAlgorithm?: (algorithm: AlgorithmDefinition) => Promise<void>;
  /**
   * Resolves once the writes made so far are committed (the embedded store group-commits them a
   * turn later): a change is acknowledged only after it, so a 201's jobId survives a kill -9.
   */
  durable?: () => Promise<void>;
}
