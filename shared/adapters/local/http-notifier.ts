// Webhooks over HTTP: each delivery is recorded in SQLite before it is sent, POSTed with up to 3
// attempts (backoff between them), and its final status kept for the API. Pending deliveries
// left by a crash are sent again on start.
import type Database from 'better-sqlite3';
import type { Notifier, WebhookDelivery } from '../../ports/notifier.ts';

export interface HttpNotifierOptions {
  attempts?: number;
  /** Delay before retry n is backoffMs * 2^(n-1). */
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

type Row = Record<string, unknown>;

export class HttpNotifier implements Notifier {
  private inflight = new Set<Promise<void>>();
  private readonly attempts: number;
  private readonly backoffMs: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    private readonly db: Database.Database,
    opts: HttpNotifierOptions = {},
  ) {
    this.attempts = opts.attempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.fetchImpl = opts.fetch ?? fetch;
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
  resumePending(): void {
    const rows = this.db
      .prepare("SELECT id, url, payload FROM webhooks WHERE status = 'pending'")
      .all() as Row[];
    for (const r of rows)
      this.track(this.deliver(Number(r.id), String(r.url), JSON.parse(String(r.payload))));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async deliver(id: number, url: string, payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    let lastError = '';
    let lastStatus: number | null = null;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      try {
        const res = await this.fetchImpl(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'sluice-webhook' },
          body,
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        lastStatus = res.status;
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) {
          this.update(id, 'delivered', attempt, lastStatus, null);
          return;
        }
        lastError = `HTTP ${res.status}`;
      } catch (err) {
        lastError = (err as Error).message;
      }
      this.update(id, attempt < this.attempts ? 'pending' : 'failed', attempt, lastStatus, lastError);
      if (attempt < this.attempts)
        await new Promise((r) => setTimeout(r, this.backoffMs * 2 ** (attempt - 1)));
    }
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
