// The AWS backend assembled from the environment the stacks set (config.ts): DynamoDB state,
// SQS queues, S3 blobs, webhook records in DynamoDB, and the same Coordinator and REST service
// as the embedded engine. Every function and the worker build one of these per process.

import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createSqsClient } from '../../adapters/aws/clients.ts';
import { AWS_ENV, numberEnv, requireEnv } from '../../adapters/aws/config.ts';
import { DynamoNotifier } from '../../adapters/aws/dynamo-notifier.ts';
import { DynamoJobStore } from '../../adapters/aws/dynamo-store.ts';
import { S3BlobStore } from '../../adapters/aws/s3-blob-store.ts';
import { createS3Client } from '../../adapters/aws/s3-client.ts';
import { SqsBatcher } from '../../adapters/aws/sqs-batcher.ts';
import { SqsTaskQueue, type SqsTaskQueueOptions } from '../../adapters/aws/sqs-task-queue.ts';
import type { CronControl } from '../../api/service.ts';
import { SluiceService } from '../../api/service.ts';
import { allBuiltins } from '../../builtins/registry.ts';
import { Coordinator, reportedTask, type TaskOutcomeReport } from '../../engine/coordinator.ts';
import { INLINE_VALUE_LIMIT } from '../../ports/blob-store.ts';
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';

export interface AwsConfig {
  tables: { jobs: string; tasks: string; registry: string };
  taskQueueUrls: Record<number, string>;
  statusQueueUrl: string;
  eventQueueUrl?: string;
  blobBucket: string;
  triggerBucket?: string;
  leaseMs: number;
  agingMs: number;
  retentionDays: number;
}

/** Reads the configuration; fails fast naming the missing variable. */
export function awsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const urlsText = requireEnv(env, 'taskQueueUrls');
  let urls: Record<string, string>;
  try {
    urls = JSON.parse(urlsText) as Record<string, string>;
  } catch {
    throw new Error(`${AWS_ENV.taskQueueUrls} must be a JSON object {"1": url, ..., "5": url}`);
  }
  const taskQueueUrls: Record<number, string> = {};
  for (let p = 1; p <= 5; p++) {
    const u = urls[String(p)];
    if (!u) throw new Error(`${AWS_ENV.taskQueueUrls} has no queue URL for priority ${p}`);
    taskQueueUrls[p] = u;
  }
  return {
    tables: {
      jobs: requireEnv(env, 'jobsTable'),
      tasks: requireEnv(env, 'tasksTable'),
      registry: requireEnv(env, 'registryTable'),
    },
    taskQueueUrls,
    statusQueueUrl: requireEnv(env, 'statusQueueUrl'),
    ...(env[AWS_ENV.eventQueueUrl] ? { eventQueueUrl: env[AWS_ENV.eventQueueUrl] } : {}),
    blobBucket: requireEnv(env, 'blobBucket'),
    ...(env[AWS_ENV.triggerBucket] ? { triggerBucket: env[AWS_ENV.triggerBucket] } : {}),
    leaseMs: numberEnv(env, 'leaseSeconds', 60) * 1000,
    agingMs: numberEnv(env, 'agingSeconds', 60) * 1000,
    retentionDays: numberEnv(env, 'retentionDays', 30),
  };
}

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
  /** Extra options of the task queue (worker: capacity, onLost, onExpired, heartbeat). */
  queue?: Partial<SqsTaskQueueOptions>;
}

export class AwsEngine {
  readonly config: AwsConfig;
  readonly dynamo: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly blobs: S3BlobStore;
  readonly store: DynamoJobStore;
  readonly queue: SqsTaskQueue;
  readonly notifier: DynamoNotifier;
  readonly coordinator: Coordinator;
  readonly service: SluiceService;
  readonly builtins: ReadonlyMap<string, BuiltinAlgorithm>;
  readonly batcher: SqsBatcher;
  private caps = new Map<string, { cap: number | undefined; at: number }>();

  constructor(opts: AwsEngineOptions) {
    const env = opts.env ?? process.env;
    this.config = opts.config;
    this.dynamo = opts.clients?.dynamo ?? createDocumentClient(env);
    this.sqs = opts.clients?.sqs ?? createSqsClient(env);
    this.s3 = opts.clients?.s3 ?? createS3Client(env);
    this.builtins = opts.builtins ?? allBuiltins();
    this.batcher = new SqsBatcher(this.sqs);
    const clock = opts.clock ?? systemClock;
    this.blobs = new S3BlobStore(this.s3, this.config.blobBucket);
    this.store = new DynamoJobStore({
      client: this.dynamo,
      tables: this.config.tables,
      blobs: this.blobs,
      retentionDays: this.config.retentionDays,
    });
    this.queue = new SqsTaskQueue({
      sqs: this.sqs,
      urls: this.config.taskQueueUrls,
      store: this.store,
      leaseMs: this.config.leaseMs,
      agingMs: this.config.agingMs,
      capOf: (a) => this.capOf(a),
      batcher: this.batcher,
      onExpired: (t) =>
        this.sendOutcome({
          taskId: t.taskId,
          status: 'failed',
          crashed: true,
          error: 'the worker running this task was lost (its lease expired)',
          task: reportedTask(t),
        }),
      ...opts.queue,
    });
    this.notifier = new DynamoNotifier(this.dynamo, this.config.tables.registry, {
      ...(opts.webhookBackoffMs !== undefined ? { backoffMs: opts.webhookBackoffMs } : {}),
      retentionDays: this.config.retentionDays,
    });
    this.coordinator = new Coordinator({
      store: this.store,
      clock,
      builtins: this.builtins,
      notifier: this.notifier,
      queue: this.queue,
      readJob: (id) => this.store.readJob(id),
      ...(opts.deferExpansion && this.config.eventQueueUrl
        ? { deferExpansion: (jobId: string) => this.sendEngineEvent({ type: 'reconcile', jobId }) }
        : {}),
    });
    this.service = new SluiceService({
      store: this.store,
      coordinator: this.coordinator,
      notifier: this.notifier,
      ...(opts.cron ? { cron: opts.cron } : {}),
      onAlgorithmsChanged: () => this.caps.clear(),
    });
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env, opts: Omit<AwsEngineOptions, 'config' | 'env'> = {}) {
    return new AwsEngine({ ...opts, env, config: awsConfigFromEnv(env) });
  }

  /** maxWorkers of an algorithm, cached for 10 s (built-ins are uncapped). */
  private async capOf(algorithm: string): Promise<number | undefined> {
    if (this.builtins.has(algorithm)) return undefined;
    const c = this.caps.get(algorithm);
    if (c && Date.now() - c.at < 10_000) return c.cap;
    const cap = (await this.store.getAlgorithm(algorithm))?.maxWorkers;
    this.caps.set(algorithm, { cap, at: Date.now() });
    return cap;
  }

  /**
   * A task outcome onto the status queue (worker → status function). Outcomes too large for a
   * message (SQS: 256 KiB) travel as a pointer to a blob.
   */
  async sendOutcome(report: TaskOutcomeReport): Promise<void> {
    let body = JSON.stringify(report);
    if (body.length > INLINE_VALUE_LIMIT) {
      const key = `outcomes/${report.taskId}-${Date.now().toString(36)}.json`;
      await this.blobs.put(key, Buffer.from(body));
      body = JSON.stringify({ taskId: report.taskId, blob: key });
    }
    await this.batcher.send(this.config.statusQueueUrl, body);
  }

  /** Reads a status-queue message back into an outcome (following a blob pointer). */
  async readOutcome(body: string): Promise<TaskOutcomeReport> {
    const m = JSON.parse(body) as TaskOutcomeReport & { blob?: string };
    if (typeof m.taskId !== 'string') throw new Error('status message without a taskId');
    if (m.blob) return JSON.parse((await this.blobs.get(m.blob)).toString('utf8')) as TaskOutcomeReport;
    if (m.status !== 'succeeded' && m.status !== 'failed')
      throw new Error(`status message with status ${m.status}`);
    return m;
  }

  /**
   * True when no task or outcome message exists anywhere (visible, in flight or delayed): then a
   * running node whose counters are short of its total lost a count (a crash between the task
   * write and the counter ADD), and the dispatch sweep rebuilds its counters.
   */
  async quiet(): Promise<boolean> {
    const urls = [...Object.values(this.config.taskQueueUrls), this.config.statusQueueUrl];
    for (const QueueUrl of urls) {
      const r = await this.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl,
          AttributeNames: [
            'ApproximateNumberOfMessages',
            'ApproximateNumberOfMessagesNotVisible',
            'ApproximateNumberOfMessagesDelayed',
          ],
        }),
      );
      const a = r.Attributes ?? {};
      const n =
        Number(a.ApproximateNumberOfMessages ?? 0) +
        Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
      if (n > 0) return false;
    }
    return true;
  }

  /** Asks the expand function to continue a job (reconcile) asynchronously. */
  async sendEngineEvent(event: { type: 'reconcile'; jobId: string }): Promise<void> {
    if (!this.config.eventQueueUrl) return this.coordinator.reconcile(event.jobId);
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.config.eventQueueUrl, MessageBody: JSON.stringify(event) }),
    );
  }
}
