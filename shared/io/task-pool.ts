// Runs async tasks with at most N in flight. Tasks carry a lane (their parent directory) and are
// started round-robin across lanes: the kernel locks a directory exclusively for create, unlink and
// rename, so 64 operations in ONE directory run one at a time while 64 spread over 20 run at once.
// Listing tasks go first (they discover more work and more lanes) until too much work is queued.
// Tasks whose file calls are synchronous (local-fs.ts, direct mode) settle in microtasks and would
// never let the event loop run (progress line, signals); with `yieldEveryMs` the pool steps out to
// the event loop that often.
import { DIRECT_JOBS, DIRECT_YIELD_MS, MAX_QUEUED_TASKS } from './constants.ts';
import { Fifo } from './fifo.ts';
import type { LocalFs } from './local-fs.ts';

export type Task = () => Promise<void>;

export class TaskPool {
  private running = 0;
  private queued = 0;
  private readonly listings = new Fifo<Task>();
  private readonly lanes = new Map<string, Fifo<Task>>();
  private readonly ring = new Fifo<string>();
  private idleWaiters: (() => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  private firstError: unknown;
  private lastYield = performance.now();
  private yielding = false;

  constructor(
    readonly concurrency: number,
    private readonly maxQueued = MAX_QUEUED_TASKS,
    private readonly yieldEveryMs?: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be >= 1');
  }

  /** Queues a file operation in `lane` (round-robin with other lanes). */
  push(lane: string, task: Task): void {
    let q = this.lanes.get(lane);
    if (!q) {
      q = new Fifo<Task>();
      this.lanes.set(lane, q);
      this.ring.push(lane);
    }
    q.push(task);
    this.queued++;
    this.pump();
  }

  /** Queues a directory listing: preferred over file operations while the queue is short. */
  pushListing(task: Task): void {
    this.listings.push(task);
    this.pump();
  }

  /** Resolves when nothing runs or waits; rejects with the first error a task threw. */
  async idle(): Promise<void> {
    if (this.running > 0 || this.queued > 0 || this.listings.length > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    if (this.firstError !== undefined) throw this.firstError;
  }

  /** Resolves when fewer than the queue limit of operations wait (producers pause on it). */
  room(): Promise<void> {
    if (this.queued < this.maxQueued) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  get pending(): number {
    return this.running + this.queued + this.listings.length;
  }

  private next(): Task | undefined {
    if (this.listings.length > 0 && this.queued < this.maxQueued) return this.listings.shift();
    // Lanes in the ring always have work: take one task from the head lane, requeue it at the tail.
    const lane = this.ring.shift();
    if (lane === undefined) return this.listings.shift();
    const q = this.lanes.get(lane)!;
    const task = q.shift();
    this.queued--;
    if (q.length === 0) this.lanes.delete(lane);
    else this.ring.push(lane);
    return task;
  }

  private pump(): void {
    if (this.yieldEveryMs !== undefined) {
      if (this.yielding) return;
      if (performance.now() - this.lastYield >= this.yieldEveryMs) {
        this.yielding = true;
        setImmediate(() => {
          this.yielding = false;
          this.lastYield = performance.now();
          this.pump();
        });
        return;
      }
    }
    while (this.running < this.concurrency) {
      const task = this.next();
      if (!task) break;
      this.running++;
      task()
        .catch((err) => {
          // Tasks record their own per-item failures; anything thrown here is a bug or an abort.
          this.firstError ??= err;
        })
        .finally(() => {
          this.running--;
          this.pump();
          if (this.roomWaiters.length > 0 && this.queued < this.maxQueued) {
            const waiters = this.roomWaiters;
            this.roomWaiters = [];
            for (const w of waiters) w();
          }
          if (this.pending === 0) {
            const waiters = this.idleWaiters;
            this.idleWaiters = [];
            for (const w of waiters) w();
          }
        });
    }
  }
}

/**
 * The pool for file calls made the way `fs` makes them. With direct calls (a local disk) only the
 * data transfers leave this thread, so a few operations in flight keep the other cores copying;
 * more only queue on the disk. The synchronous calls never give the event loop a turn by
 * themselves, so the pool yields to it regularly.
 */
export function poolFor(fs: LocalFs, jobs: number): TaskPool {
  return fs.mode === 'direct'
    ? new TaskPool(Math.min(jobs, DIRECT_JOBS), MAX_QUEUED_TASKS, DIRECT_YIELD_MS)
    : new TaskPool(jobs);
}
