// An HTTP origin on 127.0.0.1 for cache tests: serves several objects by path (query included),
// with Range, ETag/Last-Modified and If-Match, and counts every request and body byte it sends.
// It can answer chosen paths with an error status, send slowly, and stop and restart on its port.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface OriginObject {
  body: Buffer;
  /** Default: a strong ETag derived from the object's generation; null: none. */
  etag?: string | null;
  lastModified?: string;
  contentType?: string;
}

export interface CountedRequest {
  method: string;
  path: string;
  range: string | undefined;
  status: number;
}

export interface CountingOrigin {
  url: string;
  /** Path (with query) → object. Replace an entry to change the object (new ETag). */
  objects: Map<string, OriginObject>;
  /** Paths answered with this status and message instead. */
  errors: Map<string, { status: number; message: string }>;
  requests: CountedRequest[];
  bytesSent: number;
  /** Ranged GETs answered (block fetches). */
  readonly gets: number;
  /** Pause between pieces of a body (0: send at once). */
  pieceDelayMs: number;
  /** Size of those pieces (default 64 KiB). */
  pieceBytes: number;
  /** Adds an object with a fresh ETag. */
  put(path: string, body: Buffer, extra?: Omit<OriginObject, 'body'>): void;
  reset(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startCountingOrigin(): Promise<CountingOrigin> {
  const sockets = new Set<Socket>();
  let generation = 0;
  const o: CountingOrigin = {
    url: '',
    objects: new Map(),
    errors: new Map(),
    requests: [],
    bytesSent: 0,
    get gets() {
      return o.requests.filter((r) => r.method === 'GET').length;
    },
    pieceDelayMs: 0,
    pieceBytes: 65536,
    put(path, body, extra = {}) {
      o.objects.set(path, { etag: `"g${++generation}-${body.length}"`, ...extra, body });
    },
    reset() {
      o.requests.length = 0;
      o.bytesSent = 0;
    },
    stop: async () => {},
    start: async () => {},
  };
  const answer = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = req.url ?? '/';
    const method = req.method ?? 'GET';
    const log = (status: number) => o.requests.push({ method, path, range: req.headers.range, status });
    const err = o.errors.get(path);
    if (err) {
      log(err.status);
      res.writeHead(err.status, { 'content-type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : err.message);
      return;
    }
    const obj = o.objects.get(path);
    if (!obj) {
      log(404);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(method === 'HEAD' ? undefined : `no such object ${path}`);
      return;
    }
    const etag = obj.etag === undefined ? '"none"' : obj.etag;
    const headers: Record<string, string> = { 'accept-ranges': 'bytes' };
    if (etag) headers.etag = etag;
    if (obj.lastModified) headers['last-modified'] = obj.lastModified;
    if (obj.contentType) headers['content-type'] = obj.contentType;
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== etag) {
      log(412);
      res.writeHead(412);
      res.end();
      return;
    }
    const size = obj.body.length;
    let slice = obj.body;
    let status = 200;
    const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (m) {
      const start = Number(m[1]);
      const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (start >= size) {
        log(416);
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      slice = obj.body.subarray(start, end + 1);
      headers['content-range'] = `bytes ${start}-${end}/${size}`;
    }
    headers['content-length'] = String(slice.length);
    log(status);
    res.writeHead(status, headers);
    if (method === 'HEAD') {
      res.end();
      return;
    }
    if (!o.pieceDelayMs) {
      o.bytesSent += slice.length;
      res.end(slice);
      return;
    }
    for (let i = 0; i < slice.length; i += o.pieceBytes) {
      if (res.destroyed) return;
      const piece = slice.subarray(i, i + o.pieceBytes);
      o.bytesSent += piece.length;
      res.write(piece);
      await new Promise((r) => setTimeout(r, o.pieceDelayMs));
    }
    res.end();
  };
  let server = http.createServer((req, res) => void answer(req, res));
  let port = 0;
  const listen = async () => {
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  o.url = `http://127.0.0.1:${port}`;
  o.stop = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  o.start = async () => {
    server = http.createServer((req, res) => void answer(req, res));
    await listen();
  };
  return o;
}
