// The dashboard's only way to the server: JSON calls under /api/v1 and the live event stream,
// both with the bearer token the page was opened with (`#token=...`, kept for this tab only).
import { readSse } from '../../shared/api/sse-reader.ts';

const TOKEN_KEY = 'sluice-token';
/** Relative to the page: on AWS it is served under API Gateway's stage (`/prod/`), not at `/`. */
const API = 'api/v1';

/** Takes the token from a `#token=...` link into sessionStorage and out of the address bar. */
export function captureToken(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m?.[1]) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', `${location.pathname}#/jobs`);
}

function authHeaders(extra: Record<string, string> = {}): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: response shapes are the API's; pages read fields
export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${API}${path}`, {
    method,
    headers: authHeaders(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(`the server answered ${res.status} with something that is not JSON`, res.status);
  }
  if (!res.ok) {
    const e = (data as { error?: { message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(e?.message ?? `request failed with ${res.status}`, res.status, e?.field);
  }
  return data as T;
}

export interface StreamHandlers {
  // biome-ignore lint/suspicious/noExplicitAny: event payloads as the API documents them
  onEvent(type: string, data: any): void;
  /** Events were lost (server restarted, or too old): reload what the page shows. */
  onReset?(): void;
  onConnection?(connected: boolean): void;
}

/**
 * Follows `GET /api/v1/events` (fetch streaming, so the auth header goes along); reconnects after
 * a drop with the last event id, so no event is lost. A stream that ends by itself (AWS answers
 * with the events of up to 20 s, then ends) is followed again at once. Returns the function that
 * stops it.
 */
export function followEvents(query: Record<string, string>, h: StreamHandlers): () => void {
  const ctl = new AbortController();
  let lastId: string | undefined;
  const qs = new URLSearchParams(query).toString();
  void (async () => {
    while (!ctl.signal.aborted) {
      try {
        const res = await fetch(`${API}/events${qs ? `?${qs}` : ''}`, {
          headers: authHeaders(lastId ? { 'last-event-id': lastId } : {}),
          signal: ctl.signal,
        });
        if (!res.ok || !res.body) throw new Error(`events: ${res.status}`);
        h.onConnection?.(true);
        for await (const m of readSse(res.body)) {
          if (m.id) lastId = m.id;
          if (m.event === 'reset') h.onReset?.();
          else if (m.event !== 'hello') h.onEvent(m.event, JSON.parse(m.data));
        }
        if (lastId) {
          await new Promise((r) => setTimeout(r, 100));
          continue;
        }
      } catch {
        if (ctl.signal.aborted) return;
      }
      h.onConnection?.(false);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return () => ctl.abort();
}
