// An HTTP server on 127.0.0.1 for fetch tests: serves one body with Range support and injects
// faults per request (status codes, a dropped connection mid-body, a stall, a changed ETag).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { status: number; retryAfter?: number }
  /** Send this many body bytes, then destroy the connection. */
  | { dropAfter: number }
  /** Send this many body bytes, then go silent (connection stays open). */
  | { stallAfter: number };

export interface RangeServerOptions {
  body: Buffer;
  /** ETag per request (lets a test change the object mid-download). */
  etag?: (n: number) => string | undefined;
  /** false: ignore Range headers and answer 200 with the whole body, no Accept-Ranges. */
  ranges?: boolean;
  fault?: (n: number, range: { start: number; end: number } | undefined) => Fault | undefined;
  /** Answer every request after this many ms (lets requests overlap, to count them). */
  delayMs?: number;
}

export interface RangeServer {
  url: string;
  /** Every request seen: its Range header, the status answered, and its headers. */
  requests: { range: string | undefined; status: number; headers?: http.IncomingHttpHeaders }[];
  /** The most requests that were being answered at the same time. */
  readonly maxInFlight: number;
  close(): Promise<void>;
}

export async function startRangeServer(opts: RangeServerOptions): Promise<RangeServer> {
  const requests: RangeServer['requests'] = [];
  const sockets = new Set<Socket>();
  let n = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    if (opts.delayMs) setTimeout(() => answer(req, res), opts.delayMs);
    else answer(req, res);
  });
  const answer = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const i = n++;
    const body = opts.body;
    const etag = opts.etag ? opts.etag(i) : '"v1"';
    let range: { start: number; end: number } | undefined;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m && opts.ranges !== false) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), body.length - 1) : body.length - 1;
      range = { start, end };
    }
    const fault = opts.fault?.(i, range);
    if (fault && 'status' in fault) {
      requests.push({ range: req.headers.range, headers: req.headers, status: fault.status });
      res.writeHead(
        fault.status,
        fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {},
      );
      res.end('fault');
      return;
    }
    const ifMatch = req.headers['if-match'];
    if (ifMatch && etag && ifMatch !== etag) {
      requests.push({ range: req.headers.range, headers: req.headers, status: 412 });
      res.writeHead(412);
      res.end();
      return;
    }
    const headers: Record<string, string> = {};
    if (etag) headers.etag = etag;
    if (opts.ranges !== false) headers['accept-ranges'] = 'bytes';
    let slice = body;
    let status = 200;
    if (range) {
      if (range.start >= body.length) {
        requests.push({ range: req.headers.range, headers: req.headers, status: 416 });
        res.writeHead(416, { 'content-range': `bytes */${body.length}` });
        res.end();
        return;
      }
      status = 206;
      slice = body.subarray(range.start, range.end + 1);
      headers['content-range'] = `bytes ${range.start}-${range.end}/${body.length}`;
    }
    headers['content-length'] = String(slice.length);
    requests.push({ range: req.headers.range, headers: req.headers, status });
    res.writeHead(status, headers);
    if (fault && 'dropAfter' in fault) {
      res.write(slice.subarray(0, fault.dropAfter), () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    if (fault && 'stallAfter' in fault) {
      res.write(slice.subarray(0, fault.stallAfter));
      return;
    }
    res.end(slice);
  };
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get maxInFlight() {
      return maxInFlight;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
