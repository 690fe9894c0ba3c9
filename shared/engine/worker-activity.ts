// What this engine's workers are doing, for the dashboard's workers page (`GET /api/v1/workers`):
// the tasks running now, tasks finished since the engine started and the recent rate, and the
// bytes the built-in IO tasks moved (counted when each ends, from its summary). Kept from the
// feed's task events in per-second buckets, so a task costs a map update and no store read,
// whatever the rate.
import type { WorkerActivityView } from '../api/workers.ts';
import type { EngineFeed } from './feed.ts';

/** The rates are over this many one-second buckets. */
const WINDOW_S = 10;

export class WorkerActivity {
  private readonly running = new Map<
    string,
    { taskId: string; jobId: string; nodeName: string; batchIndex?: number; startedAt: number }
  >();
  private done = 0;
  private failed = 0;
  private ioBytes = 0;
  /** Tasks and IO bytes finished per second: bucket `s % WINDOW_S` holds second `second[...]`. */
  private readonly second = new Array<number>(WINDOW_S).fill(-1);
  private readonly tasks = new Array<number>(WINDOW_S).fill(0);
  private readonly bytes = new Array<number>(WINDOW_S).fill(0);
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
      const s = Math.floor(Date.now() / 1000);
      const k = s % WINDOW_S;
      if (this.second[k] !== s) {
        this.second[k] = s;
        this.tasks[k] = 0;
        this.bytes[k] = 0;
      }
      this.tasks[k]!++;
      if (e.ioBytes) {
        this.ioBytes += e.ioBytes;
        this.bytes[k]! += e.ioBytes;
      }
    });
  }

  view(): WorkerActivityView {
    const now = Date.now();
    const s = Math.floor(now / 1000);
    let tasks = 0;
    let bytes = 0;
    for (let k = 0; k < WINDOW_S; k++) {
      // The last WINDOW_S whole seconds and the current one's part.
      if (this.second[k]! > s - WINDOW_S) {
        tasks += this.tasks[k]!;
        bytes += this.bytes[k]!;
      }
    }
    const span = Math.min(WINDOW_S - 1 + (now % 1000) / 1000, (now - this.since) / 1000);
    return {
      ...(this.slots !== undefined ? { slots: this.slots } : {}),
      running: [...this.running.values()].map((r) => ({
        ...r,
        startedAt: new Date(r.startedAt).toISOString(),
      })),
      tasksDone: this.done,
      tasksFailed: this.failed,
      tasksPerSecond: span > 0 ? Math.round((tasks / span) * 10) / 10 : 0,
      ioBytes: this.ioBytes,
      ioBytesPerSecond: span > 0 ? Math.round(bytes / span) : 0,
      since: new Date(this.since).toISOString(),
    };
  }
}
