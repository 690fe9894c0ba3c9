// Delivering one webhook: POST the JSON payload, up to `attempts` times with exponential backoff,
// telling the caller after every attempt so the delivery record (SQLite or DynamoDB) shows it.
import { type Clock, sleep, systemClock } from '../ports/clock.ts';

export interface WebhookDeliveryOptions {
  attempts?: number;
  /** Delay before retry n is backoffMs * 2^(n-1). */
  backoffMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** Times the backoff (default: the system clock). */
  clock?: Clock;
}

export interface AttemptRecord {
  status: 'pending' | 'delivered' | 'failed';
  attempt: number;
  responseStatus?: number;
  error?: string;
}

export async function deliverWebhook(
  url: string,
  payload: unknown,
  record: (a: AttemptRecord) => Promise<void> | void,
  opts: WebhookDeliveryOptions = {},
): Promise<void> {
  const attempts = opts.attempts ?? 3;
  const body = JSON.stringify(payload);
  let responseStatus: number | undefined;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let error: string;
    try {
      const res = await (opts.fetch ?? fetch)(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'sluice-webhook' },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      responseStatus = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        await record({ status: 'delivered', attempt, responseStatus });
        return;
      }
      error = `HTTP ${res.status}`;
    } catch (err) {
      error = (err as Error).message;
    }
    const last = attempt === attempts;
    await record({
      status: last ? 'failed' : 'pending',
      attempt,
      ...(responseStatus !== undefined ? { responseStatus } : {}),
      error,
    });
    if (!last) await sleep(opts.clock ?? systemClock, (opts.backoffMs ?? 500) * 2 ** (attempt - 1));
  }
}
