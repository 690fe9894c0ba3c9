// A raw HTTP/1.1 server on 127.0.0.1 that misbehaves on purpose, for fetch's reliability tests:
// it writes the status line, headers and body bytes itself (node:http would refuse to lie about
// Content-Length), so a test can make it stall, trickle, claim a wrong length or a huge size,
// and return wrong bytes. Each request is answered by `answer(request)`.

import type { AddressInfo } from 'node:net';
import net from 'node:net';

export interface RawRequest {
  /** 0-based count of requests seen so far. */
  n: number;
  path: string;
  headers: Record<string, string>;
  /** The parsed `Range: bytes=a-b` header, if any. */
  range?: { start: number; end?: number };
}

export interface RawResponse {
  status?: number;
  headers?: Record<string, string | number>;
  /** Body bytes to send. */
  body?: Buffer;
  /** Never answer at all (the socket stays open). */
  silent?: boolean;
  /** Send the body this many bytes per second (a trickle). */
  bytesPerSecond?: number;
  /** After the body: 'close' the socket (default for a lying length), or keep it 'open' (stall). */
  after?: 'close' | 'open';
}

export interface MisbehavingServer {
  url: string;
  requests: RawRequest[];
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 200: 'OK', 206: 'Partial Content', 404: 'Not Found' };

export async function startMisbehavingServer(
  answer: (req: RawRequest) => RawResponse,
): Promise<MisbehavingServer> {
  const requests: RawRequest[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (d) => {
      buffered += d.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffered.slice(0, end);
      buffered = buffered.slice(end + 4);
      const [line, ...rest] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of rest) {
        const i = h.indexOf(':');
        if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
      }
      const m = /^bytes=(\d+)-(\d*)$/.exec(headers.range ?? '');
      const req: RawRequest = {
        n: requests.length,
        path: line?.split(' ')[1] ?? '/',
        headers,
        ...(m ? { range: { start: Number(m[1]), ...(m[2] ? { end: Number(m[2]) } : {}) } } : {}),
      };
      requests.push(req);
      respond(socket, answer(req));
    });
  });
  const respond = (socket: net.Socket, r: RawResponse) => {
    if (r.silent) return;
    const status = r.status ?? 200;
    const headers = { connection: 'close', ...r.headers };
    const head =
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('') +
      '\r\n';
    socket.write(head);
    const body = r.body ?? Buffer.alloc(0);
    const finish = () => {
      if (r.after === 'open') return;
      socket.end();
    };
    if (!r.bytesPerSecond) {
      socket.write(body, finish);
      return;
    }
    // A trickle: a few bytes every 100 ms.
    const step = Math.max(1, Math.round(r.bytesPerSecond / 10));
    let at = 0;
    const tick = () => {
      if (socket.destroyed) return;
      if (at >= body.length) return finish();
      socket.write(body.subarray(at, at + step));
      at += step;
      const t = setTimeout(() => {
        timers.delete(t);
        tick();
      }, 100);
      timers.add(t);
    };
    tick();
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The honest answer to `req` for `body` (206 for a range), which a test then bends. */
export function honest(
  body: Buffer,
  req: RawRequest,
  extra: Record<string, string | number> = {},
): RawResponse {
  if (!req.range) return { status: 200, headers: { 'content-length': body.length, ...extra }, body };
  const end = Math.min(req.range.end ?? body.length - 1, body.length - 1);
  const slice = body.subarray(req.range.start, end + 1);
  return {
    status: 206,
    headers: {
      'content-length': slice.length,
      'content-range': `bytes ${req.range.start}-${end}/${body.length}`,
      'accept-ranges': 'bytes',
      ...extra,
    },
    body: slice,
  };
}
