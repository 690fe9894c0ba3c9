// The embedded backend: SQLite state and queue, blobs on the local disk, local worker processes,
// HTTP webhooks — its ports handed to assembleEngine(). `sluice run`, `sluice serve` and the
// tests open one of these.
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { FileBlobStore } from '../../adapters/local/file-blob-store.ts';
import { HttpNotifier } from '../../adapters/local/http-notifier.ts';
import type { SqliteSynchronous } from '../../adapters/local/sqlite/database.ts';
import { openSqliteState, type SqliteState } from '../../adapters/local/sqlite/sqlite-state.ts';
import type { SluiceService } from '../../api/service.ts';
import { allBuiltins } from '../../builtins/registry.ts';
import { assembleEngine, type Engine } from '../../engine/assembly.ts';
import type { Coordinator } from '../../engine/coordinator.ts';
import type { Dispatcher } from '../../engine/dispatcher.ts';
import type { EngineFeed } from '../../engine/feed.ts';
import type { RecoveryReport } from '../../engine/recovery.ts';
import { ValidationError } from '../../errors.ts';
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { type Clock, every, systemClock, type Timer } from '../../ports/clock.ts';
import { isJobFinal, type JobState } from '../../ports/job-state.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';
import { BlobCodeStore } from '../../runner/code-store.ts';
import { CronTimers } from '../cron-timers.ts';

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
  /** Told when a webhook delivery failed for good (`sluice serve` logs it). */
  onWebhookFailed?: (d: { url: string; attempts: number; error: string }) => void;
  /** Schedule the stored pipelines' cron triggers (a serving engine). */
  cron?: boolean;
  /** SQLite's `synchronous` (default: $SLUICE_SQLITE_SYNCHRONOUS, else 'full'; see database.ts). */
  synchronous?: SqliteSynchronous;
}

/** $SLUICE_HOME (else ./.sluice) as an absolute path; set but empty is an error, not the cwd. */
export function sluiceHome(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (env.SLUICE_HOME !== undefined && env.SLUICE_HOME.trim() === '')
    throw new ValidationError(
      'SLUICE_HOME is set but empty: unset it (./.sluice) or name a directory',
      'SLUICE_HOME',
    );
  return resolve(cwd, env.SLUICE_HOME ?? '.sluice');
}

/** $SLUICE_SQLITE_SYNCHRONOUS: `full` (default, commits survive a power cut) or `normal` (faster). */
export function synchronousFromEnv(env: NodeJS.ProcessEnv = process.env): SqliteSynchronous {
  const v = env.SLUICE_SQLITE_SYNCHRONOUS?.trim().toLowerCase();
  if (v === undefined || v === '' || v === 'full') return 'full';
  if (v === 'normal') return 'normal';
  throw new ValidationError(
    `SLUICE_SQLITE_SYNCHRONOUS must be full or normal, not "${env.SLUICE_SQLITE_SYNCHRONOUS}"`,
    'SLUICE_SQLITE_SYNCHRONOUS',
  );
}

/** How often pipeline ttl and activeTtl are checked. */
const TTL_CHECK_MS = 1000;

export class LocalEngine {
  readonly home: string;
  readonly state: SqliteState;
  readonly notifier: HttpNotifier;
  readonly runner: TaskRunner;
  readonly clock: Clock;
  readonly engine: Engine;
  readonly cron: CronTimers | undefined;
  private ttlTimer: Timer | undefined;

  /** Opens the engine on a state directory; the process pool is loaded only if no runner is given. */
  static async open(opts: LocalEngineOptions = {}): Promise<LocalEngine> {
    const home = opts.home ?? sluiceHome();
    let runner = opts.runner;
    if (!runner) {
      const { WorkerPool } = await import('../../runner/worker-pool.ts');
      const { withDatasetCache } = await import('../dataset-cache.ts');
      const { poolCapacityFromEnv } = await import('../pool-capacity.ts');
      runner = new WorkerPool({
        maxWorkers: opts.workers ?? availableParallelism(),
        ...poolCapacityFromEnv(process.env),
        cacheDir: join(home, 'cache'),
        fetchUploadedCode: (info) => new BlobCodeStore(new FileBlobStore(join(home, 'blobs'))).fetch(info),
        ...withDatasetCache(process.env),
      });
    }
    return new LocalEngine({ ...opts, home }, runner);
  }

  private constructor(opts: LocalEngineOptions & { home: string }, runner: TaskRunner) {
    this.home = opts.home;
    this.clock = opts.clock ?? systemClock;
    this.runner = runner;
    const blobs = new FileBlobStore(join(this.home, 'blobs'));
    this.state = openSqliteState(
      join(this.home, 'sluice.db'),
      blobs,
      opts.synchronous ?? synchronousFromEnv(),
    );
    this.notifier = new HttpNotifier(this.state.database.db, {
      ...(opts.webhookBackoffMs !== undefined ? { backoffMs: opts.webhookBackoffMs } : {}),
      ...(opts.onWebhookFailed ? { onFailed: opts.onWebhookFailed } : {}),
      clock: this.clock,
    });
    let engine: Engine | undefined;
    this.cron = opts.cron
      ? new CronTimers(this.state.registry, this.clock, async (name) => {
          const fired = await engine?.fireCron(name);
          if (fired && 'skipped' in fired)
            process.emitWarning(`cron trigger of pipeline ${name}: ${fired.skipped}`);
        })
      : undefined;
    engine = assembleEngine(
      {
        jobs: this.state.jobs,
        jobReads: this.state.jobs,
        tasks: this.state.tasks,
        registry: this.state.registry,
        queue: this.state.queue,
        notifier: this.notifier,
        clock: this.clock,
        builtins: opts.builtins ?? allBuiltins(),
      },
      {
        runner,
        ...(this.cron ? { cron: this.cron } : {}),
        liveEvents: true,
        codeStore: new BlobCodeStore(blobs),
        ...(opts.runner ? {} : { workerSlots: opts.workers ?? availableParallelism() }),
        ...(opts.agingMs !== undefined ? { agingMs: opts.agingMs } : {}),
      },
    );
    this.engine = engine;
  }

  get coordinator(): Coordinator {
    return this.engine.coordinator;
  }
  get dispatcher(): Dispatcher {
    return this.engine.dispatcher as Dispatcher;
  }
  get service(): SluiceService {
    return this.engine.service;
  }
  get feed(): EngineFeed {
    return this.engine.feed;
  }
  get jobs() {
    return this.state.jobs;
  }
  get tasks() {
    return this.state.tasks;
  }
  get registry() {
    return this.state.registry;
  }
  get queue() {
    return this.state.queue;
  }
  /** The SQLite connection (benchmarks and tests read it directly). */
  get db() {
    return this.state.database.db;
  }

  /**
   * Continues what a previous process left: tasks that were running when it died count as crashed
   * (retried per policy), every unfinished job is continued from its task records, webhooks resent.
   */
  recover(): Promise<RecoveryReport> {
    return this.engine.recover('all');
  }

  /** Starts running tasks and enforcing ttls (cron triggers start with `cron.refresh()`). Idempotent. */
  start(): void {
    this.dispatcher.start();
    this.ttlTimer ??= every(this.clock, TTL_CHECK_MS, () => {
      void this.coordinator
        .enforceTtls()
        .catch((err) => process.emitWarning(`ttl: ${(err as Error).message}`));
    });
  }

  /** Resolves with the job's final state once its results are stored. */
  waitForJob(jobId: string): Promise<JobState> {
    return new Promise((resolveJob, reject) => {
      const off = this.feed.on('jobFinished', (e) => {
        if (e.job.jobId !== jobId) return;
        off();
        resolveJob(e.job);
      });
      void (async () => {
        const s = await this.jobs.getJob(jobId);
        if (!s) {
          off();
          reject(new Error(`job ${jobId} not found`));
        } else if (isJobFinal(s) && (await this.jobs.getResults(jobId)) !== undefined) {
          off();
          resolveJob(s);
        }
      })().catch(reject);
    });
  }

  async close(): Promise<void> {
    this.cron?.stop();
    this.engine.events?.close();
    this.ttlTimer?.cancel();
    await this.dispatcher.close();
    await this.runner.close();
    await this.notifier.drain();
    this.state.database.close();
  }
}
