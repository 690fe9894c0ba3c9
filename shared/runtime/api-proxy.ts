// A loopback front for a remote Sluice API that a browser cannot call by itself (AWS: SigV4 or an
// API key): it checks the browser's requests as `sluice serve` does (token, Host, Origin, JSON
// bodies; ./http-guard.ts), then forwards each one — the dashboard's files, the API, the event
// stream — with the caller's own credentials added, streaming the answer back as it arrives. An
// API answer too large for Lambda (a 303 to a presigned S3 URL) is fetched here, without those
// credentials, and passed back as the answer: the browser could not read S3 across origins.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { API_PREFIX, errorBody } from '../api/router.ts';
import { checkRequest, type HttpGuardOptions } from './http-guard.ts';

/** Request bodies larger than this are refused (the API's own limit). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Request headers passed on; the browser's authorization, cookies, Host and Origin are not. */
const PASSED_REQUEST = ['accept', 'content-type', 'last-event-id'];
/** Answer headers passed back. */
const PASSED_ANSWER = [
  'content-type',
  'cache-control',
  'content-security-policy',
  'x-content-type-options',
  'location',
  'retry-after',
];

export interface ApiProxyOptions {
  /** The API's base URL, before `/api/v1` (a deployed one ends in its stage: `.../prod`). */
  target: string;
  guard: Omit<HttpGuardOptions, 'apiPrefix'>;
  /** The headers that authorize a request to the target (SigV4, an API key...). */
  authHeaders(method: string, url: URL, body: string | undefined): Promise<Record<string, string>>;
}

function refuse(res: ServerResponse, status: number, type: string, message: string): void {
  const text = JSON.stringify(errorBody(type, message, status));
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string | undefined | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) return 'too large';
    chunks.push(c);
  }
  return chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export function createApiProxy(opts: ApiProxyOptions): Server {
  const base = opts.target.replace(/\/$/, '');
  return createServer((req, res) => {
    void (async () => {
      const refused = checkRequest(req, { ...opts.guard, apiPrefix: API_PREFIX });
      if (refused) return refuse(res, refused.status, refused.type, refused.message);
      const body = await readBody(req);
      if (body === 'too large') return refuse(res, 413, 'TOO_LARGE', 'the request body is over 64 MiB');
      const incoming = new URL(req.url ?? '/', 'http://localhost');
      const url = new URL(`${base}${incoming.pathname}${incoming.search}`);
      const method = req.method ?? 'GET';
      const headers: Record<string, string> = {};
      for (const name of PASSED_REQUEST) {
        const v = req.headers[name];
        if (typeof v === 'string') headers[name] = v;
      }
      const ctl = new AbortController();
      res.on('close', () => ctl.abort());
      let auth: Record<string, string>;
      try {
        auth = await opts.authHeaders(method, url, body);
      } catch (err) {
        // No credentials (or none that sign): the browser is told why, in one line.
        return refuse(res, 502, 'BAD_GATEWAY', (err as Error).message);
      }
      let answer: Response;
      try {
        answer = await fetch(url, {
          method,
          headers: { ...headers, ...auth },
          ...(body !== undefined ? { body } : {}),
          redirect: 'manual',
          signal: ctl.signal,
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
        return refuse(res, 502, 'BAD_GATEWAY', `cannot reach the Sluice API at ${base}: ${cause}`);
      }
      const elsewhere = answer.status === 303 ? answer.headers.get('location') : null;
      if (elsewhere && incoming.pathname.includes(API_PREFIX)) {
        await answer.body?.cancel();
        try {
          answer = await fetch(new URL(elsewhere, url), { redirect: 'manual', signal: ctl.signal });
        } catch (err) {
          const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
          return refuse(
            res,
            502,
            'BAD_GATEWAY',
            `cannot fetch the large answer the API handed out: ${cause}`,
          );
        }
      }
      const out: Record<string, string> = {};
      for (const name of PASSED_ANSWER) {
        const v = answer.headers.get(name);
        if (v !== null) out[name] = v;
      }
      res.writeHead(answer.status, out);
      if (answer.body) {
        for await (const chunk of answer.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk);
      }
      res.end();
    })().catch((err) => {
      if (!res.headersSent) refuse(res, 500, 'INTERNAL', (err as Error).message);
      else res.destroy();
    });
  });
}
