// A lean path for the requests bulk IO makes by the thousand — GetObject, small PutObject, and
// the HeadObject and ListObjectsV2 pages that start a download — SigV4-signed (UNSIGNED-PAYLOAD) over a keep-alive agent, without the SDK's middleware stack,
// which costs ~1.5 ms of CPU per request: the limit when many small objects move on a small
// machine. Only the happy path is handled here: any other answer, and any transport error, makes
// the caller repeat the request through the SDK (its retries, redirects and error mapping stay
// the truth). An answer that says the request itself was wrong (400, 403 on a write, 501...)
// switches the fast path off for good, so a store that dislikes it costs one extra request.
// A request its caller aborted is not repeated: it fails as the SDK's would (AbortError).
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { NotFoundError } from '../../errors.ts';
import type { GetOptions, ObjectHead } from '../../ports/object-store.ts';
import { type ListPage, parseListObjectsV2 } from './s3-list-xml.ts';

type Method = 'GET' | 'PUT' | 'HEAD';

/** The parts of a request's URL that signing and sending need (a URL object fits). */
export interface RequestTarget {
  protocol: string;
  /** Hostname, with ':port' when not the default. */
  host: string;
  /** Already escaped. */
  pathname: string;
  /** '' or '?' + a canonical query string. */
  search: string;
}

export interface FastPathCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FastPathConfig {
  /** Custom endpoint (AWS_ENDPOINT_URL_S3); AWS's regional endpoint when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  region: () => Promise<string>;
  credentials: () => Promise<FastPathCredentials>;
  maxSockets?: number;
}

/** RFC 3986 escaping (everything but unreserved characters), as SigV4 canonicalises. */
function escapeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** RFC 3986 escaping as S3 canonicalises keys ('/' kept). */
function escapeKey(key: string): string {
  // Most keys need no escaping: skip the split/encode/join (measurable per request).
  if (/^[A-Za-z0-9\-._~/]*$/.test(key)) return key;
  return key.split('/').map(escapeRfc3986).join('/');
}

/** A query string in SigV4 canonical form (sorted by name, RFC 3986-escaped), usable as is. */
export function canonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .sort()
    .map((k) => `${escapeRfc3986(k)}=${escapeRfc3986(params[k]!)}`)
    .join('&');
}

const hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** The SigV4 signing key for a day, region and S3 (cached by the caller: it changes daily). */
export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

/**
 * Adds SigV4 headers (x-amz-date, x-amz-content-sha256: UNSIGNED-PAYLOAD, host, authorization)
 * to a request, signing every header given. A query string must already be in canonical form
 * (see canonicalQuery).
 */
export function signS3Request(
  method: Method,
  url: RequestTarget,
  headers: Record<string, string>,
  s: { region: string; creds: FastPathCredentials; now: Date; key?: Buffer },
): void {
  const stamp = s.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = stamp.slice(0, 8);
  headers['x-amz-date'] = stamp;
  headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  if (s.creds.sessionToken) headers['x-amz-security-token'] = s.creds.sessionToken;
  headers.host = url.host;
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    lower[k.toLowerCase()] = String(v).trim().replace(/\s+/g, ' ');
  const names = Object.keys(lower).sort();
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signed = names.join(';');
  const query = url.search.slice(1);
  const canonical = `${method}\n${url.pathname}\n${query}\n${canonicalHeaders}\n${signed}\nUNSIGNED-PAYLOAD`;
  const scope = `${date}/${s.region}/s3/aws4_request`;
  const key = s.key ?? signingKey(s.creds.secretAccessKey, date, s.region);
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${hex(canonical)}`;
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${s.creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}

/** What an aborted request rejects with: the SDK's shape (name AbortError), the reason as cause. */
function abortError(signal: AbortSignal): Error {
  const err = new Error('Request aborted', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/** Statuses that mean "this kind of request is not welcome here", not "this object". */
const REJECTS_THE_PATH = new Set([400, 405, 411, 501]);

export class S3FastPath {
  private readonly agents = new Map<string, http.Agent>();
  private cachedKey: { scope: string; key: Buffer; secret: string } | undefined;
  private region: string | undefined;
  private enabled = true;

  /** The custom endpoint, parsed once. */
  private readonly endpoint: { protocol: string; host: string } | undefined;

  constructor(private readonly cfg: FastPathConfig) {
    if (cfg.endpoint) {
      const { protocol, host } = new URL(cfg.endpoint);
      this.endpoint = { protocol, host };
    }
  }

  get isEnabled(): boolean {
    return this.enabled;
  }

  private agent(protocol: string): http.Agent {
    let a = this.agents.get(protocol);
    if (!a) {
      const opts = { keepAlive: true, maxSockets: this.cfg.maxSockets ?? 256 };
      a = protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
      this.agents.set(protocol, a);
    }
    return a;
  }

  /** Where a request goes; built from strings (a URL object per request costs measurable CPU). */
  private async target(bucket: string, key: string, query = ''): Promise<RequestTarget> {
    const path = escapeKey(key);
    const search = query ? `?${query}` : '';
    if (this.endpoint) {
      const { protocol, host } = this.endpoint;
      if (this.cfg.forcePathStyle) return { protocol, host, pathname: `/${bucket}/${path}`, search };
      return { protocol, host: `${bucket}.${host}`, pathname: `/${path}`, search };
    }
    const region = await this.cfg.region();
    // Virtual-hosted style needs a DNS- and TLS-safe bucket name (no dots).
    if (/^[a-z0-9-]+$/.test(bucket))
      return {
        protocol: 'https:',
        host: `${bucket}.s3.${region}.amazonaws.com`,
        pathname: `/${path}`,
        search,
      };
    return { protocol: 'https:', host: `s3.${region}.amazonaws.com`, pathname: `/${bucket}/${path}`, search };
  }

  private async sign(method: Method, to: RequestTarget, headers: Record<string, string>): Promise<void> {
    // The region is fixed for the life of the store; credentials may be refreshed by their provider.
    this.region ??= await this.cfg.region();
    const region = this.region;
    const creds = await this.cfg.credentials();
    const now = new Date();
    const date = now.toISOString().slice(0, 10).replace(/-/g, '');
    const scope = `${date}/${region}/s3/aws4_request`;
    if (this.cachedKey?.scope !== scope || this.cachedKey.secret !== creds.secretAccessKey) {
      this.cachedKey = {
        scope,
        key: signingKey(creds.secretAccessKey, date, region),
        secret: creds.secretAccessKey,
      };
    }
    signS3Request(method, to, headers, { region, creds, now, key: this.cachedKey.key });
  }

  /** Sends one request; resolves to the response when `ok(status)`, else undefined. */
  private async send(
    method: Method,
    bucket: string,
    key: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    ok: (status: number) => boolean,
    signal?: AbortSignal,
    query = '',
  ): Promise<http.IncomingMessage | undefined> {
    if (!this.enabled) return undefined;
    if (signal?.aborted) throw abortError(signal);
    try {
      const to = await this.target(bucket, key, query);
      await this.sign(method, to, headers);
      const lib = to.protocol === 'https:' ? https : http;
      const options: http.RequestOptions = {
        method,
        protocol: to.protocol,
        host: to.host.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'),
        path: to.pathname + to.search,
        headers,
        agent: this.agent(to.protocol),
        ...(signal ? { signal } : {}),
      };
      const port = /:(\d+)$/.exec(to.host)?.[1];
      if (port) options.port = Number(port);
      return await new Promise((resolve, reject) => {
        const req = lib.request(options, (res) => {
          const status = res.statusCode ?? 0;
          if (ok(status)) {
            resolve(res);
            return;
          }
          if (REJECTS_THE_PATH.has(status) || (method === 'PUT' && status === 403)) this.enabled = false;
          res.resume();
          resolve(undefined);
        });
        // Falling back after an abort would load the SDK only to be aborted again (a download
        // that ends cancels the requests it no longer needs).
        req.on('error', () => (signal?.aborted ? reject(abortError(signal)) : resolve(undefined)));
        req.end(body);
      });
    } catch {
      if (signal?.aborted) throw abortError(signal);
      return undefined;
    }
  }

  /** The object (or range) as a stream, or undefined: then ask the SDK. */
  async get(
    bucket: string,
    key: string,
    opts: GetOptions = {},
  ): Promise<{ body: Readable; size: number; etag?: string } | undefined> {
    const headers: Record<string, string> = {};
    if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end}`;
    if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
    const res = await this.send(
      'GET',
      bucket,
      key,
      headers,
      undefined,
      (s) => s === 200 || s === 206,
      opts.signal,
    );
    if (!res) return undefined;
    const etag = res.headers.etag;
    return { body: res, size: Number(res.headers['content-length'] ?? 0), ...(etag ? { etag } : {}) };
  }

  /**
   * HeadObject: the object's attributes; throws NotFoundError on a 404 (an answer, not a
   * failure: a HEAD has no body, so the SDK could not say more); undefined means "ask the SDK".
   */
  async head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead | undefined> {
    const res = await this.send('HEAD', bucket, key, {}, undefined, (s) => s === 200 || s === 404, signal);
    if (!res) return undefined;
    res.resume();
    if (res.statusCode === 404) throw new NotFoundError(`s3://${bucket}/${key}: not found`);
    const h = res.headers;
    const size = Number(h['content-length']);
    if (!Number.isSafeInteger(size)) return undefined;
    const mtime = h['last-modified'] ? new Date(h['last-modified']) : undefined;
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(h))
      if (k.startsWith('x-amz-meta-') && typeof v === 'string') metadata[k.slice(11)] = v;
    return {
      key,
      size,
      ...(mtime && !Number.isNaN(mtime.getTime()) ? { mtime } : {}),
      ...(h.etag ? { etag: h.etag } : {}),
      ...(h['content-type'] ? { contentType: h['content-type'] } : {}),
      metadata, // always, as the SDK answers (empty when there is none)
    };
  }

  /** One ListObjectsV2 page (recursive: no delimiter), or undefined: then ask the SDK. */
  async listPage(
    bucket: string,
    prefix: string,
    opts: { token?: string; maxKeys?: number; signal?: AbortSignal } = {},
  ): Promise<ListPage | undefined> {
    const query = canonicalQuery({
      'list-type': '2',
      'encoding-type': 'url',
      prefix,
      ...(opts.token ? { 'continuation-token': opts.token } : {}),
      ...(opts.maxKeys ? { 'max-keys': String(opts.maxKeys) } : {}),
    });
    const res = await this.send('GET', bucket, '', {}, undefined, (s) => s === 200, opts.signal, query);
    if (!res) return undefined;
    try {
      return parseListObjectsV2(await text(res));
    } catch {
      return undefined;
    }
  }

  /** One PutObject of a buffer; false means "not done: use the SDK". */
  async put(
    bucket: string,
    key: string,
    body: Buffer,
    opts: { contentType?: string; metadata?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const headers: Record<string, string> = { 'content-length': String(body.length) };
    if (opts.contentType) headers['content-type'] = opts.contentType;
    for (const [k, v] of Object.entries(opts.metadata ?? {})) {
      // Non-ASCII metadata needs the SDK's encoding rules: leave it to the SDK.
      if (!/^[\x20-\x7e]*$/.test(k + v)) return false;
      headers[`x-amz-meta-${k.toLowerCase()}`] = v;
    }
    const res = await this.send('PUT', bucket, key, headers, body, (s) => s === 200, opts.signal);
    if (!res) return false;
    res.resume();
    return true;
  }
}
