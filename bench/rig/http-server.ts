// A static file server that caps every connection's rate and answers Range requests with 206, as
// an object store or a CDN does (one stream gets some tens of MB/s; more needs parallel ranged
// GETs). Strong ETags and If-Match (412) as S3 has them, so a ranged downloader can check that
// the object did not change. `GET /-/sent` answers {"bytes", "requests"}: the body bytes and the
// GETs/HEADs it has served, so a benchmark can tell how much reached a cache from its origin. Run as `http-server.ts --root DIR [--rate 50m] [--port 0]`: prints
// {"port": N} once listening.
import { createReadStream, type Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RangeServerOptions {
  root: string;
  /** Bytes per second per connection; 0 = no limit. */
  bytesPerSecond: number;
  port?: number;
}

export interface RangeServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** '50m' = 50 MiB/s, '512k', '1000' bytes/s, '0' = unlimited. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(text);
  if (!m) throw new Error(`bad rate "${text}" (e.g. 50m, 512k, 0)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * unit);
}

export interface ByteRange {
  start: number;
  end: number;
}

/** One `bytes=` range of a `size`-byte file; undefined = unsatisfiable; null = no/ignored header. */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // several ranges or junk: send it all
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return undefined;
  return { start, end };
}

/** Per-connection pacing: the time by which the bytes sent so far may have left. */
class Pacer {
  private due = 0;
  constructor(private readonly bytesPerSecond: number) {}
  /** Milliseconds to wait after sending `bytes`. */
  delayAfter(bytes: number): number {
    const now = performance.now();
    this.due = Math.max(this.due, now) + (bytes * 1000) / this.bytesPerSecond;
    return Math.max(0, this.due - now);
  }
}

/** What the server has sent (read by `GET /-/sent`). */
interface Sent {
  bytes: number;
  requests: number;
}

export async function startRangeServer(o: RangeServerOptions): Promise<RangeServer> {
  const pacers = new WeakMap<Socket, Pacer>();
  const sent: Sent = { bytes: 0, requests: 0 };
  const server = createServer((req, res) => {
    if (req.url === '/-/sent') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sent));
      return;
    }
    sent.requests++;
    serve(o, req, res, pacers, sent).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500).end(e.message);
      else res.destroy(e);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(o.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function serve(
  o: RangeServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  pacers: WeakMap<Socket, Pacer>,
  sent: Sent,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  const path = normalize(join(o.root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)));
  if (path !== o.root && !path.startsWith(o.root.endsWith(sep) ? o.root : o.root + sep)) {
    res.writeHead(403).end();
    return;
  }
  let st: Stats;
  try {
    st = await stat(path);
  } catch {
    res.writeHead(404).end();
    return;
  }
  if (!st.isFile()) {
    res.writeHead(404).end();
    return;
  }
  const etag = `"${st.size.toString(16)}-${Math.floor(st.mtimeMs).toString(16)}"`;
  const headers: Record<string, string | number> = {
    'accept-ranges': 'bytes',
    etag,
    'last-modified': st.mtime.toUTCString(),
    'content-type': 'application/octet-stream',
  };
  const ifMatch = req.headers['if-match'];
  if (ifMatch && ifMatch !== '*' && !ifMatch.split(',').some((t) => t.trim() === etag)) {
    res.writeHead(412, headers).end();
    return;
  }
  let range = parseRange(req.headers.range, st.size);
  const ifRange = req.headers['if-range'];
  if (range && ifRange && ifRange !== etag) range = null; // changed: the whole new object
  if (range === undefined) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    return;
  }
  const { start, end } = range ?? { start: 0, end: st.size - 1 };
  const length = st.size === 0 ? 0 : end - start + 1;
  if (range) headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': length });
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  const body = createReadStream(path, { start, end, highWaterMark: 64 * 1024 });
  body.on('data', (chunk) => {
    sent.bytes += chunk.length;
  });
  if (!o.bytesPerSecond) {
    body.pipe(res);
    return;
  }
  const socket = req.socket;
  let pacer = pacers.get(socket);
  if (!pacer) {
    pacer = new Pacer(o.bytesPerSecond);
    pacers.set(socket, pacer);
  }
  const paced = pacer;
  // Send a piece, then wait until the connection's budget allows the next: at most one piece
  // (64 KiB) ahead of the rate.
  body.on('data', (chunk) => {
    res.write(chunk);
    const wait = paced.delayAfter(chunk.length);
    if (wait > 0 || res.writableNeedDrain) {
      body.pause();
      const resume = () => (res.writableNeedDrain ? res.once('drain', () => body.resume()) : body.resume());
      setTimeout(resume, wait);
    }
  });
  body.on('end', () => res.end());
  body.on('error', (e) => res.destroy(e));
  res.on('close', () => body.destroy());
}

function flag(args: string[], name: string, fallback?: string): string {
  const i = args.indexOf(name);
  const value = i >= 0 ? args[i + 1] : fallback;
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const s = await startRangeServer({
    root: normalize(flag(args, '--root')),
    bytesPerSecond: parseRate(flag(args, '--rate', '50m')),
    port: Number(flag(args, '--port', '0')),
  });
  process.stdout.write(`${JSON.stringify({ port: Number(new URL(s.url).port) })}\n`);
  process.on('SIGTERM', () => void s.close().then(() => process.exit(0)));
}
