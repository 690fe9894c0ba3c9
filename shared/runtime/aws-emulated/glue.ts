// What AWS does between its services, done in-process: SQS event source mappings (poll, build an
// SQSEvent, delete what succeeded, leave `batchItemFailures` for redelivery and the DLQ), S3
// notifications of the trigger bucket, synthetic events (scheduled, S3 put). The cron schedules of
// EventBridge Scheduler are runtime/cron-timers.ts here, calling the cron function as a schedule would.
// `sluice serve --backend aws` and the tests run the real handlers on this glue.
import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { S3Event, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { isTriggerKey, markerKey } from '../aws/handlers/s3-trigger.ts';

export function sqsRecord(m: Message, queueUrl: string, region = 'us-east-1'): SQSRecord {
  const name = queueUrl.split('/').pop() ?? 'queue';
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? randomUUID(),
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${region}:000000000000:${name}`,
    awsRegion: region,
  };
}

export interface SqsPollerOptions {
  batchSize?: number;
  waitSeconds?: number;
  /** Batches handled at once (Lambda runs several concurrent invocations per queue). */
  concurrency?: number;
  onError?: (err: unknown) => void;
}

/** An SQS event source mapping: poll → handler(SQSEvent) → delete all but the reported failures. */
export class SqsPoller {
  private running = false;
  private loops: Promise<void>[] = [];
  private controller = new AbortController();

  constructor(
    private readonly sqs: SQSClient,
    readonly queueUrl: string,
    private readonly handler: (e: SQSEvent) => Promise<SQSBatchResponse | undefined>,
    private readonly opts: SqsPollerOptions = {},
  ) {}

  start(): this {
    this.running = true;
    for (let i = 0; i < (this.opts.concurrency ?? 1); i++) this.loops.push(this.loop());
    return this;
  }

  /** One receive → handle → delete round; resolves with how many messages it saw. */
  async pollOnce(waitSeconds = this.opts.waitSeconds ?? 1): Promise<number> {
    const r = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: this.opts.batchSize ?? 10,
        WaitTimeSeconds: waitSeconds,
        AttributeNames: ['All'],
      }),
      { abortSignal: this.controller.signal },
    );
    const messages = r.Messages ?? [];
    if (messages.length === 0) return 0;
    const event: SQSEvent = { Records: messages.map((m) => sqsRecord(m, this.queueUrl)) };
    let failed: Set<string>;
    try {
      const res = await this.handler(event);
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      this.opts.onError?.(err);
      return messages.length; // the whole batch failed: every message comes back after its timeout
    }
    const done = event.Records.filter((rec) => !failed.has(rec.messageId));
    for (let i = 0; i < done.length; i += 10) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: done
            .slice(i, i + 10)
            .map((rec, j) => ({ Id: String(j), ReceiptHandle: rec.receiptHandle })),
        }),
      );
    }
    return messages.length;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        await this.pollOnce();
      } catch (err) {
        if (!this.running) return;
        this.opts.onError?.(err);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    this.controller.abort();
    await Promise.allSettled(this.loops);
  }
}

/** S3 → Lambda notifications of the trigger bucket, by listing it (works on any endpoint). */
export class S3TriggerPoller {
  private seen = new Set<string>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private busy = false;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    private readonly handler: (e: S3Event) => Promise<unknown>,
    private readonly onError: (err: unknown) => void = (e) => process.emitWarning(String(e)),
  ) {}

  start(everyMs = 1000): this {
    this.timer = setInterval(() => void this.pollOnce().catch(this.onError), everyMs);
    this.timer.unref();
    return this;
  }

  /** Runs the handler for every descriptor (under the upload prefix) without a marker yet. */
  async pollOnce(): Promise<number> {
    if (this.busy) return 0;
    this.busy = true;
    try {
      const objects: { key: string; eTag: string; sequencer: string }[] = [];
      let token: string | undefined;
      do {
        const r = await this.s3.send(
          new ListObjectsV2Command({ Bucket: this.bucket, ContinuationToken: token, MaxKeys: 1000 }),
        );
        for (const o of r.Contents ?? [])
          if (o.Key)
            objects.push({
              key: o.Key,
              eTag: o.ETag ?? '',
              sequencer: (o.LastModified?.getTime() ?? 0).toString(16).toUpperCase(),
            });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      const all = new Set(objects.map((o) => o.key));
      const fresh = objects.filter(
        ({ key }) =>
          isTriggerKey(key) &&
          !this.seen.has(key) &&
          !all.has(markerKey(key, '.job.json')) &&
          !all.has(markerKey(key, '.error.json')),
      );
      for (const o of fresh) {
        this.seen.add(o.key);
        await this.handler(s3PutEvent(this.bucket, o.key, 0, o));
      }
      return fresh.length;
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

export function s3PutEvent(
  bucket: string,
  key: string,
  size = 0,
  version: { eTag?: string; sequencer?: string } = {},
): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': randomUUID(), 'x-amz-id-2': randomUUID() },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'sluice-trigger',
          bucket: { name: bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'),
            size,
            eTag: version.eTag ?? '',
            sequencer: version.sequencer ?? Date.now().toString(16).toUpperCase(),
          },
        },
      },
    ],
  };
}

/** An EventBridge `Scheduled Event` as a rule delivers it. */
export function scheduledEvent(ruleArn: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event' as const,
    source: 'aws.events' as const,
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [ruleArn],
    detail: {},
  };
}
