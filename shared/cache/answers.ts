// Writing answers to readers: errors in the shape the reader's client expects (S3 XML, or text),
// origin answers relayed as they came (hop-by-hop headers dropped), and body bytes written with
// backpressure so a slow reader holds the cache's reads back instead of filling its memory.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { SluiceError } from '../errors.ts';

/** The reader went away: stop quietly. */
export class ReaderGoneError extends SluiceError {
  override name = 'ReaderGoneError';
  constructor() {
    super('the reader closed the connection', 'READER_GONE', 499);
  }
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** An answer's headers minus hop-by-hop ones (and those its Connection header names). */
export function endToEnd(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = new Set(
    String(h.connection ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase()),
  );
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h))
    if (v !== undefined && !HOP_BY_HOP.has(k) && !named.has(k)) out[k] = v;
  return out;
}

const xmlEscape = (s: string) =>
  s.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!,
  );

/** An error of the cache's own (502 unreachable origin, 416, 412...): S3 XML or one text line. */
export function sendError(
  res: ServerResponse,
  opts: { s3: boolean; head: boolean; resource?: string; headers?: OutgoingHttpHeaders },
  status: number,
  code: string,
  message: string,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = opts.s3
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${
        opts.resource ? `<Resource>${xmlEscape(opts.resource)}</Resource>` : ''
      }</Error>\n`
    : `${message}\n`;
  res.writeHead(status, {
    ...opts.headers,
    'content-type': opts.s3 ? 'application/xml' : 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-sluice-cache-error': code,
  });
  res.end(opts.head ? undefined : body);
}

/** Relays an origin's answer (status, headers, body) to the reader. */
export function relay(
  res: ServerResponse,
  up: IncomingMessage,
  head: boolean,
  rewrite?: (h: OutgoingHttpHeaders) => void,
): Promise<void> {
  const headers = endToEnd(up.headers);
  rewrite?.(headers);
  res.writeHead(up.statusCode ?? 502, headers);
  if (head) {
    up.resume();
    res.end();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    up.on('error', () => res.destroy());
    res.on('close', () => {
      up.destroy();
      resolve();
    });
    up.pipe(res);
  });
}

/** Resolves when the reader's buffer has room again (at once if it has); rejects if it went away. */
export function drained(res: ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.reject(new ReaderGoneError());
  if (!res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new ReaderGoneError());
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Writes a chunk; waits for the reader to drain when its buffer is full. */
export function write(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ReaderGoneError());
  res.write(chunk);
  return drained(res);
}

/**
 * Writes a chunk the caller wants back: resolves once the socket has taken it (or is gone), so the
 * buffer can be reused. Backpressure is the caller's (see write()).
 */
export function writeTaken(res: ServerResponse, chunk: Buffer): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.reject(new ReaderGoneError());
  return new Promise((resolve) => {
    const gone = () => resolve();
    res.once('close', gone);
    res.write(chunk, () => {
      res.off('close', gone);
      resolve();
    });
  });
}

/** Copies `count` bytes of `up`'s body, after skipping `skip`, to the reader; destroys `up` after. */
export async function copySlice(
  res: ServerResponse,
  up: IncomingMessage,
  skip: number,
  count: number,
): Promise<number> {
  let toSkip = skip;
  let left = count;
  try {
    for await (const c of up) {
      let chunk = c as Buffer;
      if (toSkip > 0) {
        const s = Math.min(toSkip, chunk.length);
        toSkip -= s;
        chunk = chunk.subarray(s);
      }
      if (chunk.length === 0) continue;
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      await write(res, part);
      left -= part.length;
      if (left === 0) break;
    }
  } finally {
    up.destroy();
  }
  return count - left;
}
