// A lean GetObject for the bulk IO paths: SigV4-signed (UNSIGNED-PAYLOAD) GETs over a keep-alive
// agent, without the SDK's middleware stack, which costs ~1.5 ms of CPU per request — the limit
// when thousands of small objects are fetched on a small machine. Only the happy path is handled
// here: any answer but 200/206, and any transport error, returns undefined so that the caller
// repeats the request through the SDK (its retries, redirects and error mapping stay the truth).
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { GetOptions } from '../../ports/object-store.ts';

export interface FastGetCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface FastGetConfig {
  /** Custom endpoint (AWS_ENDPOINT_URL_S3); AWS's regional endpoint when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  region: () => Promise<string>;
  credentials: () => Promise<FastGetCredentials>;
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
 * to a GET of `url`, signing every header given.
 */
export function signS3Get(
  url: URL,
  headers: Record<string, string>,
  s: { region: string; creds: FastGetCredentials; now: Date; key?: Buffer },
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
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    lower[k.toLowerCase()] = String(v).trim().replace(/\s+/g, ' ');
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const signed = names.join(';');
  const canonical = `GET\n${url.pathname}\n\n${canonicalHeaders}\n${signed}\nUNSIGNED-PAYLOAD`;
  const scope = `${date}/${s.region}/s3/aws4_request`;
  const key = s.key ?? signingKey(s.creds.secretAccessKey, date, s.region);
  const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${hex(canonical)}`;
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${s.creds.accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`;
}

export class S3FastGet {
  private readonly agents = new Map<string, http.Agent>();
  private signingKey: { scope: string; key: Buffer; secret: string } | undefined;

  constructor(private readonly cfg: FastGetConfig) {}

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
    const region = await this.cfg.region();
    const path = escapeKey(key);
    if (this.cfg.endpoint) {
      const base = new URL(this.cfg.endpoint);
      if (this.cfg.forcePathStyle) return new URL(`${base.origin}/${bucket}/${path}`);
      return new URL(`${base.protocol}//${bucket}.${base.host}/${path}`);
    }
    // Virtual-hosted style needs a DNS- and TLS-safe bucket name (no dots).
    if (/^[a-z0-9-]+$/.test(bucket)) return new URL(`https://${bucket}.s3.${region}.amazonaws.com/${path}`);
    return new URL(`https://s3.${region}.amazonaws.com/${bucket}/${path}`);
  }

  private async sign(url: URL, headers: Record<string, string>): Promise<void> {
    const [region, creds] = await Promise.all([this.cfg.region(), this.cfg.credentials()]);
    const date = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const scope = `${date}/${region}/s3/aws4_request`;
    if (this.signingKey?.scope !== scope || this.signingKey.secret !== creds.secretAccessKey) {
      this.signingKey = {
        scope,
        key: signingKey(creds.secretAccessKey, date, region),
        secret: creds.secretAccessKey,
      };
    }
    signS3Get(url, headers, { region, creds, now: new Date(), key: this.signingKey.key });
  }

  /** The object (or range) as a stream, or undefined: then ask the SDK. */
  async get(
    bucket: string,
    key: string,
    opts: GetOptions = {},
  ): Promise<{ body: Readable; size: number; etag?: string } | undefined> {
    try {
      const url = await this.url(bucket, key);
      const headers: Record<string, string> = {};
      if (opts.range) headers.range = `bytes=${opts.range.start}-${opts.range.end}`;
      if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
      await this.sign(url, headers);
      const lib = url.protocol === 'https:' ? https : http;
      return await new Promise((resolve) => {
        const req = lib.request(
          url,
          { method: 'GET', headers, agent: this.agent(url.protocol), signal: opts.signal },
          (res) => {
            const ok = res.statusCode === 200 || res.statusCode === 206;
            if (!ok) {
              res.resume();
              resolve(undefined);
              return;
            }
            const etag = res.headers.etag;
            resolve({
              body: res,
              size: Number(res.headers['content-length'] ?? 0),
              ...(etag ? { etag } : {}),
            });
          },
        );
        req.on('error', () => resolve(undefined));
        req.end();
      });
    } catch {
      return undefined;
    }
  }
}
