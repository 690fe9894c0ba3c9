// A lean path for the requests bulk IO makes by the thousand — GetObject and small PutObject —
// SigV4-signed (UNSIGNED-PAYLOAD) over a keep-alive agent, without the SDK's middleware stack,
// which costs ~1.5 ms of CPU per request: the limit when many small objects move on a small
// machine. Only the happy path is handled here: any other answer, and any transport error, makes
// the caller repeat the request through the SDK (its retries, redirects and error mapping stay
// the truth). An answer that says the request itself was wrong (400, 403 on a write, 501...)
// switches the fast path off for good, so a store that dislikes it costs one extra request.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { GetOptions } from '../../ports/object-store.ts';

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

/** RFC 3986 escaping as S3 canonicalises keys ('/' kept). */
function escapeKey(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

const hex = (data: string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** The SigV4 signing key for a day, region and S3 (cached by the caller: it changes daily). */
export function signingKey(secret: string, date: string, region: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
}

/**
 * Adds SigV4 headers (x-amz-date, x-amz-content-sha256: UNSIGNED-PAYLOAD, host, authorization)
 * to a request without a query string, signing every header given.
 */
export function signS3Request(
  method: 'GET' | 'PUT',
  url: URL,
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
  const canonical = `${method}\n${url.pathname}\n\n${canonicalHeaders}\n${signed}\nUNSIGNED-PAYLOAD`;
  const scope = `${date}/${s.region}/s3/aws4_request`;
  const key = s.key ?? signingKey(s.creds.secretAccessKey, date, s.region);
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${hex(canonical)}`;
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${s.creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}

/** Statuses that mean "this kind of request is not welcome here", not "this object". */
const REJECTS_THE_PATH = new Set([400, 405, 411, 501]);

export class S3FastPath {
  private readonly agents = new Map<string, http.Agent>();
  private cachedKey: { scope: string; key: Buffer; secret: string } | undefined;
  private enabled = true;

  constructor(private readonly cfg: FastPathConfig) {}

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

  private async url(bucket: string, key: string): Promise<URL> {
    const path = escapeKey(key);
    if (this.cfg.endpoint) {
      const base = new URL(this.cfg.endpoint);
      if (this.cfg.forcePathStyle) return new URL(`${base.origin}/${bucket}/${path}`);
      return new URL(`${base.protocol}//${bucket}.${base.host}/${path}`);
    }
    const region = await this.cfg.region();
    // Virtual-hosted style needs a DNS- and TLS-safe bucket name (no dots).
    if (/^[a-z0-9-]+$/.test(bucket)) return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${path}`);
    return new URL(`https://s3.${region}.amazonaws.com/${bucket}/${path}`);
  }

  private async sign(method: 'GET' | 'PUT', url: URL, headers: Record<string, string>): Promise<void> {
    const [region, creds] = await Promise.all([this.cfg.region(), this.cfg.credentials()]);
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
    signS3Request(method, url, headers, { region, creds, now, key: this.cachedKey.key });
  }

  /** Sends one request; resolves to the response when `ok(status)`, else undefined. */
  private async send(
    method: 'GET' | 'PUT',
    bucket: string,
    key: string,
    headers: Record<string, string>,
    body: Buffer | undefined,
    ok: (status: number) => boolean,
    signal?: AbortSignal,
  ): Promise<http.IncomingMessage | undefined> {
    if (!this.enabled) return undefined;
    try {
      const url = await this.url(bucket, key);
      await this.sign(method, url, headers);
      const lib = url.protocol === 'https:' ? https : http;
      return await new Promise((resolve) => {
        const req = lib.request(url, { method, headers, agent: this.agent(url.protocol), signal }, (res) => {
          const status = res.statusCode ?? 0;
          if (ok(status)) {
            resolve(res);
            return;
          }
          if (REJECTS_THE_PATH.has(status) || (method === 'PUT' && status === 403)) this.enabled = false;
          res.resume();
          resolve(undefined);
        });
        req.on('error', () => resolve(undefined));
        req.end(body);
      });
    } catch {
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
