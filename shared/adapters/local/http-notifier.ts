// Webhooks over HTTP: each delivery is recorded in SQLite before it is sent, POSTed with up to 3
// attempts (backoff between them), and its final status kept for the API. Pending deliveries
// left by a crash are sent again on start.
import type Database from 'better-sqlite3';
import { deliverWebhook } from '../../engine/webhook-delivery.ts';
import { type Clock, systemClock } from '../../ports/clock.ts';
import type { Notifier, WebhookDelivery } from '../../ports/notifier.ts';

export interface HttpNotifierOptions {
  attempts?: number;
  /** Delay before retry n is backoffMs * 2^(n-1). */
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Told when a delivery failed for good (every attempt), e.g. to log it. */
  onFailed?: (d: { url: string; attempts: number; error: string }) => void;
}

type Row = Record<string, unknown>;

export class HttpNotifier implements Notifier {
  private inflight = new Set<Promise<void>>();
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly onFailed: HttpNotifierOptions['onFailed'];

  constructor(
    private readonly db: Database.Database,
    opts: HttpNotifierOptions = {},
  ) {
    this.attempts = opts.attempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetch ?? fetch;
    this.clock = opts.clock ?? systemClock;
    this.onFailed = opts.onFailed;
  }

  async notify(jobId: string, kind: 'progress' | 'result', url: string, payload: unknown): Promise<void> {
    const now = Date.now();
    const r = this.db
      .prepare(
        `INSERT INTO webhooks (job_id, kind, url, status, attempts, payload, created_at, updated_at)
         VALUES (?, ?, ?, 'pending', 0, ?, ?, ?)`,
      )
      .run(jobId, kind, url, JSON.stringify(payload), now, now);
    this.track(this.deliver(Number(r.lastInsertRowid), url, payload));
  }

  /** Sends deliveries a previous process recorded but did not finish. */
  async resumePending(): Promise<number> {
    const rows = this.db
      .prepare("SELECT id, url, payload FROM webhooks WHERE status = 'pending'")
      .all() as Row[];
    for (const r of rows)
      this.track(this.deliver(Number(r.id), String(r.url), JSON.parse(String(r.payload))));
    return rows.length;
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private deliver(id: number, url: string, payload: unknown): Promise<void> {
    return deliverWebhook(
      url,
      payload,
      (a) => {
        if (a.status === 'failed') {
          const why = a.error ?? (a.responseStatus ? `HTTP ${a.responseStatus}` : 'failed');
          this.onFailed?.({ url, attempts: a.attempt, error: why });
        }
        return this.update(id, a.status, a.attempt, a.responseStatus ?? null, a.error ?? null);
      },
      {
        attempts: this.attempts,
        backoffMs: this.backoffMs,
        timeoutMs: this.timeoutMs,
        fetch: this.fetchImpl,
        clock: this.clock,
      },
    );
  }

  private update(id: number, status: string, attempts: number, code: number | null, error: string | null) {
    this.db
      .prepare(
        'UPDATE webhooks SET status = ?, attempts = ?, response_status = ?, error = ?, updated_at = ? WHERE id = ?',
      )
      .run(status, attempts, code, error, Date.now(), id);
  }

  async deliveries(jobId: string, kind?: 'progress' | 'result'): Promise<WebhookDelivery[]> {
    const rows = (
      kind
        ? this.db.prepare('SELECT * FROM webhooks WHERE job_id = ? AND kind = ? ORDER BY id').all(jobId, kind)
        : this.db.prepare('SELECT * FROM webhooks WHERE job_id = ? ORDER BY id').all(jobId)
    ) as Row[];
    return rows.map((r) => ({
      id: Number(r.id),
      jobId: String(r.job_id),
      kind: r.kind as WebhookDelivery['kind'],
      url: String(r.url),
      status: r.status as WebhookDelivery['status'],
      attempts: Number(r.attempts),
      ...(r.response_status !== null ? { responseStatus: Number(r.response_status) } : {}),
      ...(r.error !== null ? { error: String(r.error) } : {}),
      payload: JSON.parse(String(r.payload)),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }

  async drain(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }
}
