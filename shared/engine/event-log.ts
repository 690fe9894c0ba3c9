// The engine's live events for the API's event stream: every task change as it happens, and each
// changed job's status view at most every `jobIntervalMs` (a 100,000-item batch would otherwise
// send one job view per item). Kept in a bounded in-memory log so a reconnecting client resumes
// by the id of the last event it saw. Starts listening to the feed on first use: an engine
// nobody watches pays nothing.
import type { LiveEvent, LiveEvents } from '../api/live-events.ts';
import type { EngineFeed } from './feed.ts';

export interface EventLogOptions {
  /** Events kept for resuming (default 200,000). */
  capacity?: number;
  /** A changed job's view is sent at most this often (default 250 ms). */
  jobIntervalMs?: number;
}

export class EventLog implements LiveEvents {
  /** Tells ids of this log from those of an engine that ran before (a restart). */
  private readonly epoch = Date.now().toString(36);
  private events: LiveEvent[] = [];
  /** Sequence number of events[0]. */
  private first = 1;
  private next = 1;
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private offFeed: (() => void)[] = [];
  private readonly capacity: number;
  private readonly jobIntervalMs: number;

  constructor(
    private readonly feed: EngineFeed,
    /** The job's view as the API shows it (exec/status), or undefined when it is gone. */
    private readonly jobView: (jobId: string) => Promise<unknown>,
    opts: EventLogOptions = {},
  ) {
    this.capacity = opts.capacity ?? 200_000;
    this.jobIntervalMs = opts.jobIntervalMs ?? 250;
  }

  since(lastId: string, jobId?: string): LiveEvent[] | undefined {
    this.start();
    const [epoch, seqText] = lastId.split('-');
    const seq = Number(seqText);
    if (epoch !== this.epoch || !Number.isInteger(seq) || seq < this.first - 1 || seq >= this.next)
      return undefined;
    const out = this.events.slice(seq - this.first + 1);
    return jobId ? out.filter((e) => e.jobId === jobId) : out;
  }

  lastId(): string {
    this.start();
    return `${this.epoch}-${this.next - 1}`;
  }

  subscribe(listener: (e: LiveEvent) => void): () => void {
    this.start();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const off of this.offFeed) off();
    this.offFeed = [];
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.offFeed = [
      this.feed.on('taskChanged', ({ type: _t, jobId, ...task }) => {
        this.append('task', jobId, task);
        this.markDirty(jobId);
      }),
      this.feed.on('jobChanged', (e) => this.markDirty(e.job.jobId)),
      // The final view goes out at once: a client waiting for the end need not wait a tick.
      this.feed.on('jobFinished', (e) => void this.sendJob(e.job.jobId)),
    ];
  }

  private append(type: LiveEvent['type'], jobId: string, data: unknown): void {
    const e: LiveEvent = { id: `${this.epoch}-${this.next++}`, type, jobId, data };
    this.events.push(e);
    // Trimmed in chunks, not per event: a shift of a 200,000-element array per event is costly.
    if (this.events.length > this.capacity * 1.1) {
      const drop = this.events.length - this.capacity;
      this.events = this.events.slice(drop);
      this.first += drop;
    }
    for (const fn of this.listeners) fn(e);
  }

  private markDirty(jobId: string): void {
    this.dirty.add(jobId);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const ids = [...this.dirty];
      this.dirty.clear();
      for (const id of ids) void this.sendJob(id);
    }, this.jobIntervalMs);
    this.timer.unref?.();
  }

  private async sendJob(jobId: string): Promise<void> {
    try {
      const view = await this.jobView(jobId);
      if (view !== undefined) this.append('job', jobId, view);
    } catch {
      // The job was deleted or the store closed: nothing to show.
    }
  }
}
