// Webhooks from Lambda: each delivery is recorded in the registry table (HOOK#<jobId> / <kind>#<id>)
// before it is POSTed, with up to `attempts` tries; the API lists them. Deliveries are awaited by
// the function that produced them (a Lambda must not leave work running after it returns); a
// delivery a crashed invocation left unfinished stays listed as `pending` with its attempts.
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { deliverWebhook } from '../../engine/webhook-delivery.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Notifier, WebhookDelivery } from '../../ports/notifier.ts';

export interface DynamoNotifierOptions {
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  retentionDays?: number;
  /** Times the retry backoff. */
  clock?: Clock;
}

export class DynamoNotifier implements Notifier {
  private inflight = new Set<Promise<void>>();
  private seq = 0;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly opts: DynamoNotifierOptions = {},
  ) {}

  async notify(jobId: string, kind: 'progress' | 'result', url: string, payload: unknown): Promise<void> {
    const now = Date.now();
    // Time-ordered ids, unique per process (plus a random tail across processes).
    const id = now * 1000 + (this.seq++ % 1000);
    const sk = `${kind}#${String(id).padStart(20, '0')}#${Math.random().toString(36).slice(2, 8)}`;
    await this.client.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `HOOK#${jobId}`,
          sk,
          id,
          jobId,
          kind,
          url,
          status: 'pending',
          attempts: 0,
          payload: JSON.stringify(payload),
          createdAt: now,
          updatedAt: now,
          ttl: Math.floor(now / 1000) + (this.opts.retentionDays ?? 30) * 86_400,
        },
      }),
    );
    const p = this.deliver(jobId, sk, url, payload);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private deliver(jobId: string, sk: string, url: string, payload: unknown): Promise<void> {
    return deliverWebhook(
      url,
      payload,
      (a) => this.update(jobId, sk, a.status, a.attempt, a.responseStatus, a.error),
      {
        ...(this.opts.attempts !== undefined ? { attempts: this.opts.attempts } : {}),
        ...(this.opts.backoffMs !== undefined ? { backoffMs: this.opts.backoffMs } : {}),
        ...(this.opts.timeoutMs !== undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
        ...(this.opts.fetch ? { fetch: this.opts.fetch } : {}),
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
      },
    );
  }

  private async update(
    jobId: string,
    sk: string,
    status: string,
    attempts: number,
    code?: number,
    error?: string,
  ): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `HOOK#${jobId}`, sk },
        UpdateExpression: `SET #s = :s, attempts = :a, updatedAt = :u${code !== undefined ? ', responseStatus = :c' : ''}${error !== undefined ? ', #e = :e' : ''}`,
        ExpressionAttributeNames: { '#s': 'status', ...(error !== undefined ? { '#e': 'error' } : {}) },
        ExpressionAttributeValues: {
          ':s': status,
          ':a': attempts,
          ':u': Date.now(),
          ...(code !== undefined ? { ':c': code } : {}),
          ...(error !== undefined ? { ':e': error } : {}),
        },
      }),
    );
  }

  async deliveries(jobId: string, kind?: 'progress' | 'result'): Promise<WebhookDelivery[]> {
    const r = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: kind ? 'pk = :pk AND begins_with(sk, :k)' : 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `HOOK#${jobId}`, ...(kind ? { ':k': `${kind}#` } : {}) },
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? [])
      .map((i) => ({
        id: Number(i.id),
        jobId: String(i.jobId),
        kind: i.kind as WebhookDelivery['kind'],
        url: String(i.url),
        status: i.status as WebhookDelivery['status'],
        attempts: Number(i.attempts),
        ...(i.responseStatus !== undefined ? { responseStatus: Number(i.responseStatus) } : {}),
        ...(i.error !== undefined ? { error: String(i.error) } : {}),
        payload: JSON.parse(String(i.payload)),
        createdAt: Number(i.createdAt),
        updatedAt: Number(i.updatedAt),
      }))
      .sort((a, b) => a.id - b.id);
  }

  /**
   * Nothing to resend: a function awaits its deliveries before it returns, and one that crashed
   * leaves its record `pending` (listed by the API). Another function cannot tell such a record
   * from one still being sent, so it does not send it a second time.
   */
  async resumePending(): Promise<number> {
    return 0;
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}
