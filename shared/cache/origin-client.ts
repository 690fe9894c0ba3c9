// Sends the cache's requests to origins over keep-alive connections and turns transport failures
// (refused, DNS, reset, an origin silent for ORIGIN_IDLE_MS) into OriginUnreachableError naming
// the origin. Any HTTP status is an answer, returned as is: the caller decides what it means.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { ORIGIN_IDLE_MS } from './constants.ts';
import { OriginUnreachableError } from './errors.ts';
import type { UpstreamRequest } from './s3-upstream.ts';
import type { CacheStats } from './types.ts';

export class OriginClient {
  private readonly agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets: 256 }),
    'https:': new https.Agent({ keepAlive: true, maxSockets: 256 }),
  };

  constructor(
    private readonly stats: CacheStats,
    private readonly idleMs = ORIGIN_IDLE_MS,
  ) {}

  /**
   * Sends one request (streaming `body` when given) and resolves with the answer's head; its body
   * errors with OriginUnreachableError if the origin breaks off or falls silent.
   */
  send(
    method: string,
    up: UpstreamRequest,
    origin: string,
    body?: Readable | Buffer,
  ): Promise<http.IncomingMessage> {
    this.stats.originRequests++;
    return this.attempt(
      method,
      up,
      origin,
      body,
      body === undefined && (method === 'GET' || method === 'HEAD'),
    );
  }

  /**
   * One try. A kept-alive connection the origin closed just as it was reused fails with ECONNRESET
   * before any answer (Node's agent race): a GET or HEAD is sent once more, on a new connection.
   */
  private attempt(
    method: string,
    up: UpstreamRequest,
    origin: string,
    body: Readable | Buffer | undefined,
    replayable: boolean,
    fresh = false,
  ): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(up.url);
      } catch (err) {
        reject(new OriginUnreachableError(origin, err));
        return;
      }
      const lib = url.protocol === 'https:' ? https : http;
      // The retry takes a new connection of its own: the pool's other idle ones may be as stale.
      const agent = fresh ? false : url.protocol === 'https:' ? this.agents['https:'] : this.agents['http:'];
      let answered = false;
      const req = lib.request(url, { method, headers: up.headers, agent }, (res) => {
        answered = true;
        resolve(res);
      });
      req.setTimeout(this.idleMs, () =>
        req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', (err) => {
        if (answered) return;
        const code = (err as NodeJS.ErrnoException).code;
        if (replayable && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE'))
          this.attempt(method, up, origin, body, false, true).then(resolve, reject);
        else reject(new OriginUnreachableError(origin, err));
      });
      if (body === undefined) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  close(): void {
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }
}

/** Reads a whole (small) answer body, at most `limit` bytes (undefined beyond). */
export async function readSmallBody(res: Readable, limit: number): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const chunk of res) {
    n += (chunk as Buffer).length;
    if (n > limit) {
      res.destroy();
      return undefined;
    }
    parts.push(chunk as Buffer);
  }
  return Buffer.concat(parts);
}
