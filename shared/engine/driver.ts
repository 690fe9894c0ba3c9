// What the coordinator's modules (admission, expansion, outcomes, finishing, reconcile, ttl) see
// of it: the ports, the feed, and the one way to change a job — apply an event.
import type { Dag, Pipeline } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';
import type { EnginePorts } from './engine-ports.ts';
import type { EngineFeed } from './feed.ts';
import type { EngineEvent } from './types.ts';

export interface SubmitOptions {
  /** Replaces the pipeline's flowInput. */
  flowInput?: Record<string, unknown>;
  /** Merged over the pipeline's options. */
  options?: Record<string, unknown>;
  priority?: number;
  origin?: JobState['origin'];
  jobId?: string;
  /** A dynamic ("open") job: its client adds the tasks and closes it (see dynamic-tasks.ts). */
  dynamic?: boolean;
}

/**
 * Where one process may not run long enough to create a whole batch (AWS: a Lambda's timeout),
 * an expansion creates at most `maxItems` tasks, records how far it got on the node (a
 * checkpoint, `NodeState.expandedItems`) and asks `continue` for another invocation, which
 * carries on from there. Repeating a part inserts nothing twice (task ids are deterministic).
 */
export interface ExpansionSplit {
  maxItems: number;
  continue(jobId: string): Promise<void>;
}

export interface JobDriver {
  readonly ports: EnginePorts;
  readonly feed: EngineFeed;
  /**
   * Hands a job's expansions to another process instead of running them here (AWS: the api
   * function answers at once and the expand function creates the tasks). That process continues
   * the job with `reconcile`.
   */
  readonly deferExpansion: ((jobId: string) => Promise<void>) | undefined;
  /** A batch expansion over this many items is split across invocations (see ExpansionSplit). */
  readonly expansionSplit: ExpansionSplit | undefined;
  /** Applies one event to a job (read, transition, conditional save), then carries out its effects. */
  apply(jobId: string, ev: EngineEvent): Promise<void>;
  dagOf(jobId: string, pipeline: Pipeline): Dag;
  /** Forgets what was cached for a job that finished. */
  forget(jobId: string): void;
  submit(raw: unknown, opts?: SubmitOptions): Promise<JobState>;
}
