// HTTP(S) URLs as a ByteSource. The probe is a one-byte ranged GET (works with presigned URLs,
// which sign the method, unlike HEAD) that tells the size and whether ranges work. Every later
// response is checked against the probe's validators so a replaced object is an error.
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { base64ToHex, ContentMd5Check, wholeObjectDigests } from './checksum.ts';
import {
  FetchError,
  HttpStatusError,
  SourceChangedError,
  TransferError,
  UnreachableError,
} from './errors.ts';
import type { ByteRange, ByteSource, SourceInfo } from './source.ts';

const MAX_REDIRECTS = 5;

function retryAfterSeconds(h: string | undefined): number | undefined {
  if (!h) return undefined;
  const n = Number(h);
  if (Number.isFinite(n)) return Math.max(0, n);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, (t - Date.now()) / 1000) : undefined;
}

/** "bytes 0-0/1234" -> {start, end, total}; total undefined for "*". */
function parseContentRange(
  h: string | undefined,
): { start: number; end: number; total?: number } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(h ?? '');
  if (!m) return undefined;
  return { start: Number(m[1]), end: Number(m[2]), ...(m[3] !== '*' ? { total: Number(m[3]) } : {}) };
}

export class HttpSource implements ByteSource {
  private url: URL;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(
    readonly name: string,
    opts: { maxSockets?: number; headers?: Record<string, string> } = {},
  ) {
    this.url = new URL(name);
    this.origin = this.url.origin;
    this.userHeaders = Object.fromEntries(
      Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    this.headers = { 'user-agent': 'sluice-fetch/0.1', 'accept-encoding': 'identity' };
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets ?? 64 };
    this.agents = { http: new http.Agent(agentOpts), https: new https.Agent(agentOpts) };
  }
  private readonly headers: Record<string, string>;
  /** --header: sent to the URL's own origin only, never after a redirect to another host (as curl). */
  private readonly userHeaders: Record<string, string>;
  private readonly origin: string;

  /** Sends one GET, following redirects (the final URL is kept for the chunk requests). */
  private request(headers: Record<string, string>, signal: AbortSignal): Promise<http.IncomingMessage> {
    const go = (url: URL, hops: number): Promise<http.IncomingMessage> =>
      new Promise((resolve, reject) => {
        const mod = url.protocol === 'https:' ? https : http;
        const agent = url.protocol === 'https:' ? this.agents.https : this.agents.http;
        const req = mod.request(
          url,
          {
            method: 'GET',
            headers: {
              ...this.headers,
              ...(url.origin === this.origin ? this.userHeaders : {}),
              ...headers,
            },
            agent,
            signal,
          },
          (res) => {
            const status = res.statusCode ?? 0;
            if (status >= 300 && status < 400 && res.headers.location) {
              res.resume();
              if (hops >= MAX_REDIRECTS)
                return reject(new FetchError(`${this.name}: too many redirects`, 'HTTP_ERROR'));
              const next = new URL(res.headers.location, url);
              this.url = next;
              go(next, hops + 1).then(resolve, reject);
              return;
            }
            resolve(res);
          },
        );
        req.on('error', (err: NodeJS.ErrnoException) => {
          if (signal.aborted) reject(signal.reason ?? err);
          else if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN')
            // As curl: a name that does not resolve is not retried (EAI_AGAIN is what a resolver
            // without a network answers; a retry a second later meets the same).
            reject(
              new UnreachableError(this.name, `cannot resolve host ${url.hostname} (DNS: ${err.code})`, {
                cause: err,
              }),
            );
          else if (err.code === 'ECONNREFUSED')
            reject(
              new UnreachableError(this.name, `connection refused by ${url.host} (ECONNREFUSED)`, {
                cause: err,
              }),
            );
          else reject(new TransferError(`${this.name}: ${err.message}`, { cause: err }));
        });
        req.end();
      });
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:')
      return Promise.reject(new FetchError(`${this.name}: unsupported URL scheme`, 'BAD_URL', 400));
    return go(this.url, 0);
  }

  private fail(res: http.IncomingMessage): never {
    res.resume();
    throw new HttpStatusError(this.name, res.statusCode ?? 0, retryAfterSeconds(res.headers['retry-after']));
  }

  async probe(signal: AbortSignal): Promise<SourceInfo> {
    const res = await this.request({ range: 'bytes=0-0' }, signal);
    const status = res.statusCode ?? 0;
    res.resume();
    res.on('error', () => {});
    const digests = wholeObjectDigests(res.headers);
    const validators = {
      ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      ...(res.headers['last-modified'] ? { lastModified: res.headers['last-modified'] } : {}),
      ...(digests.length ? { digests } : {}),
    };
    if (status === 206) {
      const cr = parseContentRange(res.headers['content-range']);
      return { size: cr?.total, ranges: cr?.total !== undefined, ...validators };
    }
    if (status === 416) return { size: 0, ranges: false, ...validators }; // an empty object
    if (status === 200) {
      const len = res.headers['content-length'];
      return { size: len !== undefined ? Number(len) : undefined, ranges: false, ...validators };
    }
    this.fail(res);
  }

  async open(range: ByteRange | undefined, expect: SourceInfo, signal: AbortSignal): Promise<Readable> {
    const headers: Record<string, string> = {};
    if (range) headers.range = `bytes=${range.start}-${range.end}`;
    // If-Match needs a strong ETag; the response validators are checked below in any case.
    if (range && expect.etag && !expect.etag.startsWith('W/')) headers['if-match'] = expect.etag;
    const res = await this.request(headers, signal);
    const status = res.statusCode ?? 0;
    if (status === 412) {
      res.resume();
      throw new SourceChangedError(this.name, 'ETag no longer matches (HTTP 412)');
    }
    if (status !== (range ? 206 : 200)) {
      if (range && status === 200) {
        res.resume();
        throw new FetchError(`${this.name}: the server stopped honouring Range requests`, 'HTTP_ERROR');
      }
      this.fail(res);
    }
    const changed = (detail: string) => {
      res.destroy();
      return new SourceChangedError(this.name, detail);
    };
    if (expect.etag && res.headers.etag && res.headers.etag !== expect.etag)
      throw changed(`ETag ${expect.etag} -> ${res.headers.etag}`);
    if (
      expect.lastModified &&
      res.headers['last-modified'] &&
      res.headers['last-modified'] !== expect.lastModified
    )
      throw changed(`Last-Modified ${expect.lastModified} -> ${res.headers['last-modified']}`);
    if (range) {
      const cr = parseContentRange(res.headers['content-range']);
      if (!cr || cr.start !== range.start || cr.end !== range.end)
        throw changed(
          `asked for bytes ${range.start}-${range.end}, got "${res.headers['content-range'] ?? ''}"`,
        );
      if (expect.size !== undefined && cr.total !== undefined && cr.total !== expect.size)
        throw changed(`length ${expect.size} -> ${cr.total}`);
      // A length that disagrees with the range is a broken response (a lying server or proxy):
      // fail it cleanly instead of reading until the socket errors or the bytes run over.
      const len = res.headers['content-length'];
      if (len !== undefined && Number(len) !== cr.end - cr.start + 1) {
        res.destroy();
        throw new TransferError(
          `${this.name}: Content-Length ${len} disagrees with Content-Range bytes ${cr.start}-${cr.end}`,
        );
      }
    } else if (expect.size !== undefined && res.headers['content-length'] !== undefined) {
      if (Number(res.headers['content-length']) !== expect.size)
        throw changed(`length ${expect.size} -> ${res.headers['content-length']}`);
    }
    // A Content-MD5 vouches for exactly this response's body: check it as it passes.
    const md5 = res.headers['content-md5'];
    if (typeof md5 === 'string' && md5) {
      const what = range ? `bytes ${range.start}-${range.end}` : 'the response';
      const check = new ContentMd5Check(this.name, base64ToHex(md5), what);
      pipeline(res, check, () => {});
      return check;
    }
    return res;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}
