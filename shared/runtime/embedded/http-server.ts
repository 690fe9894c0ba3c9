// node:http in front of the REST router (`sluice serve`). Checks who is asking first (token, Host,
// Origin, JSON bodies: ../http-guard.ts), parses JSON bodies with a size limit, answers malformed
// ones with 400, and never lets an exception become a hung request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventStreamBody } from '../../api/live-events.ts';
import { API_PREFIX, errorBody, handleApi } from '../../api/router.ts';
import type { SluiceService } from '../../api/service.ts';
import { checkRequest, type HttpGuardOptions } from '../http-guard.ts';
import { BodyBudget, type BodyLimits, DEFAULT_BODY_LIMITS } from './body-reader.ts';

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Writes a server-sent event stream until the client goes away. */
function streamEvents(res: ServerResponse, stream: EventStreamBody): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  const close = stream.open((text) => {
    if (!res.writableEnded) res.write(text);
  });
  res.on('close', close);
}

export type ExtraHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => boolean | Promise<boolean>;

/** Who may ask: the token (undefined = `--no-auth`) and the address bound (see http-guard.ts). */
export type ApiGuard = Omit<HttpGuardOptions, 'apiPrefix'>;

export function createApiServer(
  service: SluiceService,
  extra?: ExtraHandler,
  guard?: ApiGuard,
  limits: BodyLimits = DEFAULT_BODY_LIMITS,
): Server {
  const budget = new BodyBudget(limits);
  return createServer((req, res) => {
    void (async () => {
      const refused = guard ? checkRequest(req, { ...guard, apiPrefix: API_PREFIX }) : undefined;
      if (refused) {
        // The body is not read: close the connection rather than drain what a refused client sends.
        send(res, refused.status, errorBody(refused.type, refused.message, refused.status), {
          connection: 'close',
          ...(refused.status === 401 ? { 'www-authenticate': 'Bearer realm="sluice"' } : {}),
        });
        return;
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (!url.pathname.startsWith(API_PREFIX)) {
        if (extra && (await extra(req, res, url))) return;
        send(res, 404, errorBody('NOT_FOUND', `nothing at ${url.pathname}; the API is under ${API_PREFIX}`));
        return;
      }
      const body = await budget.read(req);
      if (!body.ok) {
        // A body left unread is not drained: the connection closes with the answer.
        send(res, body.status, errorBody(body.type, body.message, body.status), {
          connection: 'close',
          ...(body.status === 503 ? { 'retry-after': '1' } : {}),
        });
        return;
      }
      const query: Record<string, string> = Object.create(null);
      for (const [k, v] of url.searchParams) query[k] = v;
      const headers: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const r = await handleApi(service, {
        method: req.method ?? 'GET',
        path: url.pathname.slice(API_PREFIX.length) || '/',
        query,
        body: body.value,
        headers,
      });
      if (r.body instanceof EventStreamBody) streamEvents(res, r.body);
      else send(res, r.status, r.body);
    })().catch((err) => {
      if (!res.headersSent) send(res, 500, errorBody('INTERNAL', (err as Error).message));
      else res.destroy();
    });
  });
}

export async function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server.address() as AddressInfo;
}
