// The engine's live events for the API's event stream: every task change as it happens, and each
// changed job's status view at most every `jobIntervalMs` (a 100,000-item batch would otherwise
// send one job view per item). Kept in a bounded in-memory log so a reconnecting client resumes
// by the id of the last event it saw. Starts listening to the feed on first use: an engine
// nobody watches pays nothing. Running tasks per node are counted from the task events (after
// one count from the store per job), so a view costs one job read, not a scan of its tasks.
import { jobStatusView, type LiveCounts } from '../api/job-views.ts';
import type { LiveEvent, LiveEvents } from '../api/live-events.ts';
import { isJobFinal, type JobState } from '../ports/job-state.ts';
import type { NodeCounts } from '../ports/tasks.ts';
import type { EngineFeed } from './feed.ts';

export interface EventLogReads {
  getJob(jobId: string): Promise<JobState | undefined>;
  nodeCounts(jobId: string): Promise<Record<string, NodeCounts>>;
}

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
  /** Running tasks per job and node: counted once from the store, then kept by the task events. */
  private readonly active = new Map<string, Map<string, number>>();

  constructor(
    private readonly feed: EngineFeed,
    private readonly reads: EventLogReads,
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
      this.feed.on('taskChanged', ({ type: _t, jobId, ioBytes: _b, ...task }) => {
        const running = this.active.get(jobId);
        if (running) {
          const delta = task.status === 'active' ? 1 : -1;
          running.set(task.nodeName, Math.max(0, (running.get(task.nodeName) ?? 0) + delta));
        }
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
      const job = await this.reads.getJob(jobId);
      if (!job) return;
      if (isJobFinal(job)) {
        this.active.delete(jobId);
        this.append('job', jobId, jobStatusView(job, { queued: 0, active: 0, nodes: {} }));
        return;
      }
      this.append('job', jobId, jobStatusView(job, await this.liveCounts(job)));
    } catch {
      // The store closed: nothing to show.
    }
  }

  /** Queued and running tasks per node, as exec/status counts them, without scanning the tasks. */
  private async liveCounts(job: JobState): Promise<LiveCounts> {
    let running = this.active.get(job.jobId);
    if (!running) {
      // Counted once; task events that arrive meanwhile are counted on top (the map is in place).
      running = new Map();
      this.active.set(job.jobId, running);
      const counts = await this.reads.nodeCounts(job.jobId);
      for (const [name, c] of Object.entries(counts)) running.set(name, (running.get(name) ?? 0) + c.active);
    }
    const live: LiveCounts = { queued: 0, active: 0, nodes: {} };
    for (const [name, n] of job.nodes.entries()) {
      const active = running.get(name) ?? 0;
      const queued = Math.max(0, n.created - n.succeeded - n.failed - n.stopped - active);
      live.nodes![name] = { queued, active };
      live.queued += queued;
      live.active += active;
    }
    return live;
  }
}
