// What the engine tells whoever listens in this process: job changes (watchers, `sluice run`,
// the live event stream), finished jobs, new queued tasks (the dispatcher wakes up) and running
// tasks to abort (stop, ttl, a failing job). Publishing costs nothing when nobody listens.
import type { JobState, TaskOutcomeKind, TaskStatus } from '../ports/job-state.ts';

export type FeedEvent =
  /** A job's state was saved (any change). */
  | { type: 'jobChanged'; job: JobState }
  /** A job reached its final status and its results are stored. */
  | { type: 'jobFinished'; job: JobState }
  /** A task's outcome was recorded (not published for tasks a stop ended). */
  | { type: 'taskFinished'; jobId: string; taskId: string; status: TaskOutcomeKind }
  /** Tasks became claimable (new, or re-queued for a retry). */
  | { type: 'tasksQueued'; jobId: string; count: number }
  /** Running tasks must end (their job was stopped, timed out or failed). */
  | { type: 'tasksAborted'; taskIds: string[]; reason: string }
  /** One task started, was re-queued for a retry, or ended (the live event stream shows it). */
  | {
      type: 'taskChanged';
      jobId: string;
      taskId: string;
      nodeName: string;
      batchIndex?: number;
      status: TaskStatus;
      /** Bytes a built-in IO task (cp, zip, rm, fetch) moved, when it succeeded. */
      ioBytes?: number;
    };

type Listener<T extends FeedEvent['type']> = (event: Extract<FeedEvent, { type: T }>) => void;

export class EngineFeed {
  private readonly listeners = new Map<FeedEvent['type'], Set<(e: FeedEvent) => void>>();

  /** Subscribes to one kind of event; returns the unsubscribe function. */
  on<T extends FeedEvent['type']>(type: T, listener: Listener<T>): () => void {
    let set = this.listeners.get(type);
    if (!set) {
      set = new Set();
      this.listeners.set(type, set);
    }
    const fn = listener as (e: FeedEvent) => void;
    set.add(fn);
    return () => set.delete(fn);
  }

  publish(event: FeedEvent): void {
    const set = this.listeners.get(event.type);
    if (!set) return;
    for (const fn of [...set]) fn(event);
  }
}
