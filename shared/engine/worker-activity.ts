// What this engine's workers are doing, for the dashboard's workers page (`GET /api/v1/workers`):
// the tasks running now, tasks finished since the engine started and the recent rate, and the
// bytes the built-in IO tasks moved (counted when each ends, from its summary). Kept from the
// feed's task events, so it costs a map update per task and no store read.
import type { WorkerActivityView } from '../api/workers.ts';
import type { EngineFeed } from './feed.ts';

const RATE_WINDOW_MS = 10_000;

export class WorkerActivity {
  private readonly running = new Map<
    string,
    { taskId: string; jobId: string; nodeName: string; batchIndex?: number; startedAt: number }
  >();
  private done = 0;
  private failed = 0;
  /** Finish times of the last RATE_WINDOW_MS (for tasks/s). */
  private recent: number[] = [];
  private ioBytes = 0;
  /** [finish time, bytes] of the IO tasks of the last RATE_WINDOW_MS (for bytes/s). */
  private recentIo: [number, number][] = [];
  private readonly since = Date.now();

  constructor(
    feed: EngineFeed,
    private readonly slots: number | undefined,
  ) {
    feed.on('taskChanged', (e) => {
      if (e.status === 'active') {
        this.running.set(e.taskId, {
          taskId: e.taskId,
          jobId: e.jobId,
          nodeName: e.nodeName,
          ...(e.batchIndex !== undefined ? { batchIndex: e.batchIndex } : {}),
          startedAt: Date.now(),
        });
        return;
      }
      if (!this.running.delete(e.taskId)) return;
      if (e.status === 'queued') return; // a retry: not finished
      this.done++;
      if (e.status === 'failed') this.failed++;
      const now = Date.now();
      if (e.ioBytes) {
        this.ioBytes += e.ioBytes;
        this.recentIo.push([now, e.ioBytes]);
        if ((this.recentIo[0]?.[0] ?? now) < now - RATE_WINDOW_MS)
          this.recentIo = this.recentIo.filter(([t]) => t >= now - RATE_WINDOW_MS);
      }
      this.recent.push(now);
      if (this.recent.length > 4096 || (this.recent[0] ?? now) < now - RATE_WINDOW_MS)
        this.recent = this.recent.filter((t) => t >= now - RATE_WINDOW_MS);
    });
  }

  view(): WorkerActivityView {
    const now = Date.now();
    const window = this.recent.filter((t) => t >= now - RATE_WINDOW_MS);
    const span = Math.min(RATE_WINDOW_MS, now - this.since) / 1000;
    return {
      ...(this.slots !== undefined ? { slots: this.slots } : {}),
      running: [...this.running.values()].map((r) => ({
        ...r,
        startedAt: new Date(r.startedAt).toISOString(),
      })),
      tasksDone: this.done,
      tasksFailed: this.failed,
      tasksPerSecond: span > 0 ? Math.round((window.length / span) * 10) / 10 : 0,
      ioBytes: this.ioBytes,
      ioBytesPerSecond:
        span > 0
          ? Math.round(this.recentIo.reduce((a, [t, b]) => (t >= now - RATE_WINDOW_MS ? a + b : a), 0) / span)
          : 0,
      since: new Date(this.since).toISOString(),
    };
  }
}
