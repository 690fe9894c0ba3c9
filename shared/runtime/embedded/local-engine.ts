// The embedded backend assembled: SQLite state and queue, blobs on the local disk, local worker
// processes, HTTP webhooks. `sluice run`, `sluice serve` and the tests build one of these.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { FileBlobStore } from '../../adapters/local/file-blob-store.ts';
import { HttpNotifier } from '../../adapters/local/http-notifier.ts';
import { SqliteStore } from '../../adapters/local/sqlite-store.ts';
import { allBuiltins } from '../../builtins/registry.ts';
import { Coordinator } from '../../engine/coordinator.ts';
import { Dispatcher } from '../../engine/dispatcher.ts';
import { isJobFinal } from '../../engine/transitions.ts';
import type { JobState } from '../../engine/types.ts';
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';

export interface LocalEngineOptions {
  /** State directory (default $SLUICE_HOME or ./.sluice). */
  home?: string;
  /** Worker processes (default: CPU count). */
  workers?: number;
  clock?: Clock;
  /** Waiting tasks gain one priority level per this many ms. */
  agingMs?: number;
  /** Replace the local process pool (tests). */
  runner?: TaskRunner;
  builtins?: ReadonlyMap<string, BuiltinAlgorithm>;
  webhookBackoffMs?: number;
}

export function sluiceHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.SLUICE_HOME ?? '.sluice');
}

export class LocalEngine {
  readonly store: SqliteStore;
  readonly notifier: HttpNotifier;
  readonly coordinator: Coordinator;
  readonly dispatcher: Dispatcher;
  readonly runner: TaskRunner;
  readonly events = new EventEmitter();
  readonly home: string;
  private ttlTimer: ReturnType<typeof setInterval> | undefined;

  /** Opens the engine on a state directory; the process pool is loaded only if no runner is given. */
  static async open(opts: LocalEngineOptions = {}): Promise<LocalEngine> {
    const home = opts.home ?? sluiceHome();
    const builtins = opts.builtins ?? allBuiltins();
    let runner = opts.runner;
    if (!runner) {
      const { WorkerPool } = await import('../../runner/worker-pool.ts');
      runner = new WorkerPool({
        maxWorkers: opts.workers ?? availableParallelism(),
        cacheDir: join(home, 'cache'),
      });
    }
    return new LocalEngine({ ...opts, home, builtins }, runner);
  }

  private constructor(opts: LocalEngineOptions, runner: TaskRunner) {
    this.home = opts.home ?? sluiceHome();
    const clock = opts.clock ?? systemClock;
    const builtins = opts.builtins ?? allBuiltins();
    this.store = new SqliteStore(join(this.home, 'sluice.db'), new FileBlobStore(join(this.home, 'blobs')));
    this.notifier = new HttpNotifier(this.store.db, {
      ...(opts.webhookBackoffMs !== undefined ? { backoffMs: opts.webhookBackoffMs } : {}),
    });
    this.runner = runner;
    this.events.setMaxListeners(0);
    let dispatcher: Dispatcher | undefined;
    this.coordinator = new Coordinator({
      store: this.store,
      clock,
      builtins,
      notifier: this.notifier,
      onTasksQueued: () => dispatcher?.wake(),
      onAbortTasks: (ids, reason) => dispatcher?.abort(ids, reason),
      onJobChanged: (s) => this.events.emit('job', s),
      onJobFinished: (s) => this.events.emit('finished', s),
    });
    dispatcher = new Dispatcher({
      queue: this.store,
      store: this.store,
      runner: this.runner,
      coordinator: this.coordinator,
      clock,
      builtins,
      ...(opts.agingMs !== undefined ? { agingMs: opts.agingMs } : {}),
    });
    this.dispatcher = dispatcher;
  }

  /**
   * Continues what a previous process left: tasks that were running when it died count as crashed
   * (retried per policy), node counters are rebuilt from the task records, webhooks resent.
   */
  async recover(): Promise<{ jobs: number; orphanedTasks: number }> {
    const orphans = await this.store.orphanedActiveTasks();
    for (const t of orphans) {
      await this.coordinator.taskOutcome({
        taskId: t.taskId,
        status: 'failed',
        crashed: true,
        error: 'the engine stopped while this task was running',
      });
    }
    const jobs = await this.store.unfinishedJobs();
    for (const j of jobs) await this.coordinator.reconcile(j.jobId);
    this.notifier.resumePending();
    return { jobs: jobs.length, orphanedTasks: orphans.length };
  }

  start(): void {
    this.dispatcher.start();
    this.ttlTimer = setInterval(() => {
      void this.coordinator
        .enforceTtls()
        .catch((err) => process.emitWarning(`ttl: ${(err as Error).message}`));
    }, 1000);
    this.ttlTimer.unref();
  }

  /** Resolves with the job's final state once its results are stored. */
  waitForJob(jobId: string, onChange?: (s: JobState) => void): Promise<JobState> {
    return new Promise((resolveJob, reject) => {
      const changed = (s: JobState) => {
        if (s.jobId === jobId) onChange?.(s);
      };
      const finished = (s: JobState) => {
        if (s.jobId !== jobId) return;
        cleanup();
        resolveJob(s);
      };
      const cleanup = () => {
        this.events.off('job', changed);
        this.events.off('finished', finished);
      };
      this.events.on('job', changed);
      this.events.on('finished', finished);
      void (async () => {
        const s = await this.store.getJob(jobId);
        if (!s) {
          cleanup();
          reject(new Error(`job ${jobId} not found`));
        } else if (isJobFinal(s) && (await this.store.getResults(jobId)) !== undefined) {
          cleanup();
          resolveJob(s);
        }
      })().catch(reject);
    });
  }

  async close(): Promise<void> {
    if (this.ttlTimer) clearInterval(this.ttlTimer);
    await this.dispatcher.close();
    await this.runner.close();
    await this.notifier.drain();
    this.store.close();
  }
}
