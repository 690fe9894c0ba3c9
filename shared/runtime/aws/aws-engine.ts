// The AWS backend: DynamoDB state, SQS priority queues, S3 blobs, webhook records in DynamoDB —
// its ports handed to assembleEngine(). Every Lambda function and every worker builds one per
// process; a worker's also runs tasks (its dispatcher reports outcomes to the status queue).
import type { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { algorithmQueueUrl } from '../../adapters/aws/algorithm-queues.ts';
import { createDocumentClient, createSqsClient } from '../../adapters/aws/clients.ts';
import { type DynamoState, openDynamoState } from '../../adapters/aws/dynamo/dynamo-state.ts';
import { DynamoNotifier } from '../../adapters/aws/dynamo-notifier.ts';
import { S3BlobStore } from '../../adapters/aws/s3-blob-store.ts';
import { createS3Client } from '../../adapters/aws/s3-client.ts';
import { presignPut } from '../../adapters/aws/s3-presign.ts';
import { SqsBatcher } from '../../adapters/aws/sqs-batcher.ts';
import { type SqsLease, SqsTaskQueue, type SqsTaskQueueOptions } from '../../adapters/aws/sqs-task-queue.ts';
import type { PolledEventsOptions } from '../../api/polled-events.ts';
import type { CronControl, SluiceService } from '../../api/service.ts';
import { allBuiltins } from '../../builtins/registry.ts';
import { assembleEngine, type Engine } from '../../engine/assembly.ts';
import type { Coordinator } from '../../engine/coordinator.ts';
import type { Dispatcher } from '../../engine/dispatcher.ts';
import { ioBytesOf } from '../../engine/io-bytes.ts';
import { ReadThroughJobCache } from '../../engine/job-cache.ts';
import { crashedReport, reportedTask, type TaskOutcomeReport } from '../../engine/outcomes.ts';
import { type StoredDebugOptions, StoredDebugSessions } from '../../engine/stored-debug-sessions.ts';
import type { AlgorithmDefinition } from '../../pipeline/types.ts';
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { ClaimedTask } from '../../ports/task-queue.ts';
import type { TaskRunner } from '../../ports/task-runner.ts';
import { BlobCodeStore } from '../../runner/code-store.ts';
import { type AwsConfig, awsConfigFromEnv } from './aws-config.ts';
import { StatusQueue } from './status-queue.ts';
import { workerActivityOnAws } from './worker-reports.ts';

export { type AwsConfig, awsConfigFromEnv } from './aws-config.ts';

/** How long a function reuses a job state for decisions that write nothing to the job. */
const FUNCTION_JOB_CACHE_MS = 500;
/** How long a worker reuses a job state (a stop reaches its tasks through the lease heartbeat). */
const WORKER_JOB_CACHE_MS = 1000;
/** How long an algorithm's maxWorkers is reused (built-ins are uncapped). */
const CAP_CACHE_MS = 10_000;
/**
 * How long a worker gathers outcomes and deletes into one SendMessageBatch / DeleteMessageBatch
 * (functions: the batcher's 5 ms). Neither holds a slot (sqs-settles.ts), so a longer window costs
 * a task's outcome that much latency, not the worker's throughput.
 */
const WORKER_BATCH_WINDOW_MS = 20;

export interface AwsEngineOptions {
  config: AwsConfig;
  env?: NodeJS.ProcessEnv;
  clients?: { dynamo?: DynamoDBDocumentClient; sqs?: SQSClient; s3?: S3Client };
  builtins?: ReadonlyMap<string, BuiltinAlgorithm>;
  clock?: Clock;
  cron?: CronControl;
  webhookBackoffMs?: number;
  /**
   * Expansions go to the expand function through the event queue (the api function: a
   * 100,000-item batch is created there, not inside an API Gateway request).
   */
  deferExpansion?: boolean;
  /** See ApiDeps.prepareAlgorithm (the api function: registers an image algorithm's task definition). */
  prepareAlgorithm?: (algorithm: AlgorithmDefinition) => Promise<void>;
  /** The bounded event stream of `GET /api/v1/events` (api/polled-events.ts; defaults there). */
  events?: PolledEventsOptions;
  /** Timings of `sluice debug` sessions (idle expiry, poll periods). */
  debug?: StoredDebugOptions;
  /** Extra options of the task queue (heartbeat, lease, prefetch). */
  queue?: Partial<Pick<SqsTaskQueueOptions, 'heartbeatMs' | 'leaseMs' | 'prefetch'>>;
  /** Run tasks in this process (a worker): outcomes go to the status queue. */
  runTasks?: {
    runner: TaskRunner;
    /** Outcomes are dropped while this says so (a worker drained away: the lease expiry reports them). */
    dropOutcomes?: () => boolean;
  };
}

export class AwsEngine {
  readonly config: AwsConfig;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly clock: Clock;
  readonly blobs: S3BlobStore;
  /** Uploaded algorithm code (the code bucket). */
  readonly code: BlobCodeStore;
  readonly state: DynamoState;
  readonly queue: SqsTaskQueue;
  readonly notifier: DynamoNotifier;
  readonly outcomes: StatusQueue;
  readonly builtins: ReadonlyMap<string, BuiltinAlgorithm>;
  readonly engine: Engine;
  private caps = new Map<string, { def: AlgorithmDefinition | undefined; at: number }>();

  constructor(opts: AwsEngineOptions) {
    const env = opts.env ?? process.env;
    this.config = opts.config;
    this.dynamo = opts.clients?.dynamo ?? createDocumentClient(env);
    this.sqs = opts.clients?.sqs ?? createSqsClient(env);
    this.s3 = opts.clients?.s3 ?? createS3Client(env);
    this.clock = opts.clock ?? systemClock;
    this.builtins = opts.builtins ?? allBuiltins();
    const batcher = new SqsBatcher(this.sqs, opts.runTasks ? WORKER_BATCH_WINDOW_MS : undefined);
    this.blobs = new S3BlobStore(this.s3, this.config.blobBucket);
    // The api function checks an upload by extracting it into /tmp (512 MB by default on Lambda).
    // Archives over the API's request limit are PUT to the code bucket through a presigned URL.
    this.code = new BlobCodeStore(
      new S3BlobStore(this.s3, this.config.codeBucket, ''),
      256 * 1024 * 1024,
      (key, seconds) => presignPut(this.s3, this.config.codeBucket, key, seconds),
    );
    this.outcomes = new StatusQueue(batcher, this.config.statusQueueUrl, this.blobs);
    this.state = openDynamoState({
      client: this.dynamo,
      tables: this.config.tables,
      blobs: this.blobs,
      retentionDays: this.config.retentionDays,
    });
    this.queue = new SqsTaskQueue({
      sqs: this.sqs,
      urls: this.config.taskQueueUrls,
      // Engine events too: a split expansion's continuation is always among them (see quiet()).
      relatedUrls: [
        this.config.statusQueueUrl,
        ...(this.config.eventQueueUrl ? [this.config.eventQueueUrl] : []),
      ],
      slots: this.state.slots,
      leases: this.state.tasks,
      leaseMs: this.config.leaseMs,
      capOf: (a) => this.capOf(a),
      ...(this.config.algorithmQueuePrefix
        ? { queueOf: (a: string) => this.queueOf(a), ownQueues: () => this.ownQueues() }
        : {}),
      batcher,
      onExpired: (t) =>
        this.outcomes.send(
          crashedReport(
            t.taskId,
            'the worker running this task was lost (its lease expired)',
            reportedTask(t),
          ),
        ),
      ...opts.queue,
    });
    this.notifier = new DynamoNotifier(this.dynamo, this.config.tables.registry, {
      ...(opts.webhookBackoffMs !== undefined ? { backoffMs: opts.webhookBackoffMs } : {}),
      retentionDays: this.config.retentionDays,
      clock: this.clock,
    });
    const records = { getJob: (id: string) => this.state.jobs.readRecord(id) };
    const run = opts.runTasks;
    this.engine = assembleEngine(
      {
        jobs: this.state.jobs,
        jobReads: new ReadThroughJobCache(
          records,
          this.clock,
          run ? WORKER_JOB_CACHE_MS : FUNCTION_JOB_CACHE_MS,
        ),
        tasks: this.state.tasks,
        registry: this.state.registry,
        queue: this.queue,
        notifier: this.notifier,
        clock: this.clock,
        builtins: this.builtins,
      },
      {
        ...(opts.prepareAlgorithm ? { prepareAlgorithm: opts.prepareAlgorithm } : {}),
        ...(opts.deferExpansion && this.config.eventQueueUrl
          ? { deferExpansion: (jobId: string) => this.continueJob(jobId) }
          : {}),
        ...(opts.cron ? { cron: opts.cron } : {}),
        // A batch too large for one invocation is created in parts, each part continued by the
        // expand function (through the event queue) from the node's checkpoint.
        expansionSplit: {
          maxItems: this.config.expandMaxItems,
          continue: (jobId: string) => this.continueJob(jobId),
        },
        ...(run
          ? {
              runner: run.runner,
              reportOutcome: (o: TaskOutcomeReport, t: ClaimedTask) => {
                // This worker's own count of what it ran (worker-reports.ts): the outcome itself
                // is applied by the status function, in another process.
                this.engine.feed.publish({
                  type: 'taskChanged',
                  jobId: t.jobId,
                  taskId: t.taskId,
                  nodeName: t.nodeName,
                  ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
                  status: o.status,
                  ...(o.status === 'succeeded' && ioBytesOf(t.algorithmName, o.result) !== undefined
                    ? { ioBytes: ioBytesOf(t.algorithmName, o.result) as number }
                    : {}),
                });
                return run.dropOutcomes?.() ? Promise.resolve() : this.reportOffSlot(o, t);
              },
            }
          : {
              // The api function: what the workers reported lately (worker-reports.ts).
              workers: () => workerActivityOnAws(this.dynamo, this.config.tables.registry),
            }),
        polledEvents: opts.events ?? {},
        // Debug sessions in the registry table: the api function and the workers meet there.
        debugSessions: new StoredDebugSessions(this.state.debug, this.clock, opts.debug),
        codeStore: this.code,
        // Workers do not age the queues: the dispatch tick does.
        agingMs: 0,
        onAlgorithmsChanged: () => this.caps.clear(),
      },
    );
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, opts: Omit<AwsEngineOptions, 'config' | 'env'> = {}) {
    return new AwsEngine({ ...opts, env, config: awsConfigFromEnv(env) });
  }

  get coordinator(): Coordinator {
    return this.engine.coordinator;
  }
  get service(): SluiceService {
    return this.engine.service;
  }
  get dispatcher(): Dispatcher | undefined {
    return this.engine.dispatcher;
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

  /** maxWorkers of an algorithm, cached for CAP_CACHE_MS (built-ins are uncapped). */
  private async capOf(algorithm: string): Promise<number | undefined> {
    return (await this.definitionOf(algorithm))?.maxWorkers;
  }

  /** An image algorithm's own task queue (with SLUICE_ALGORITHM_QUEUE_PREFIX), else undefined. */
  private async queueOf(algorithm: string): Promise<string | undefined> {
    const prefix = this.config.algorithmQueuePrefix;
    if (!prefix || !(await this.definitionOf(algorithm))?.image) return undefined;
    return algorithmQueueUrl(this.config.statusQueueUrl, prefix, algorithm);
  }

  /** The own task queues of every stored image algorithm. */
  private async ownQueues(): Promise<string[]> {
    const prefix = this.config.algorithmQueuePrefix as string;
    const algorithms = await this.state.registry.listAlgorithms();
    return algorithms
      .filter((a) => a.image)
      .map((a) => algorithmQueueUrl(this.config.statusQueueUrl, prefix, a.name));
  }

  /** A stored algorithm's definition, cached for CAP_CACHE_MS (maxWorkers, image). */
  private async definitionOf(algorithm: string): Promise<AlgorithmDefinition | undefined> {
    if (this.builtins.has(algorithm)) return undefined;
    const c = this.caps.get(algorithm);
    if (c && this.clock.now() - c.at < CAP_CACHE_MS) return c.def;
    const def = await this.state.registry.getAlgorithm(algorithm);
    this.caps.set(algorithm, { def, at: this.clock.now() });
    return def;
  }

  /**
   * A worker's outcome on its way to the status queue without holding the task's slot: the
   * queue's settle deletes the task's message once it is sent (sqs-settles.ts). A task not held
   * here (nothing to settle after it) waits for its send as before.
   */
  private reportOffSlot(outcome: TaskOutcomeReport, t: ClaimedTask): Promise<void> {
    const sent = this.reportFromWorker(outcome, t);
    if (!this.queue.leaseOf(t.taskId)) return sent;
    this.queue.outcomeSending(t.taskId, sent);
    return Promise.resolve();
  }

  /** A worker's outcome, with the task as it ran (no read needed by the status function). */
  private reportFromWorker(outcome: TaskOutcomeReport, t: ClaimedTask): Promise<void> {
    const lease = t.lease as SqsLease | undefined;
    return this.outcomes.send({
      ...outcome,
      task: { ...reportedTask(t), ...(lease ? { startedAt: lease.startedAt } : {}) },
    });
  }

  /** Asks the expand function to continue a job (reconcile) asynchronously, or does it here. */
  async continueJob(jobId: string): Promise<void> {
    if (!this.config.eventQueueUrl) return this.coordinator.reconcile(jobId);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.config.eventQueueUrl,
        MessageBody: JSON.stringify({ type: 'reconcile', jobId }),
      }),
    );
  }
}
