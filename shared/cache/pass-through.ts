// Requests the cache does not answer from blocks — writes, listings it does not keep, objects it
// cannot key, requests carrying the reader's own credentials for an HTTP origin — go to the origin
// as they came, body streamed both ways. For S3 the cache signs them anew with its credentials
// (undoing signed-chunk framing, whose signatures were the reader's); the caller invalidates what
// a successful write touched.
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { relay, sendError } from './answers.ts';
import { AwsChunkedDecoder, hasSignedChunks } from './aws-chunked.ts';
import { OriginUnreachableError } from './errors.ts';
import type { OriginClient } from './origin-client.ts';
import type { UpstreamRequest } from './s3-upstream.ts';
import type { CacheStats } from './types.ts';

export interface PassThroughTarget {
  origin: string;
  s3: boolean;
  resource: string;
  build(headers: Record<string, string>): Promise<UpstreamRequest>;
  rewrite?: (h: OutgoingHttpHeaders) => void;
}

/** Never forwarded: hop-by-hop, and what the cache's own request sets. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);
/** The reader's S3 signature and what it covers: the cache signs with its own credentials. */
const S3_AUTH = new Set(['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256']);

export function forwardHeaders(h: IncomingHttpHeaders, s3: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || DROPPED.has(k) || (s3 && S3_AUTH.has(k))) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

const hasBody = (req: IncomingMessage) =>
  req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;

/** Sends the request on and relays the answer; resolves with the origin's status (0: none). */
export async function passThrough(
  req: IncomingMessage,
  res: ServerResponse,
  t: PassThroughTarget,
  client: OriginClient,
  stats: CacheStats,
): Promise<number> {
  stats.passThrough++;
  const headers = forwardHeaders(req.headers, t.s3);
  let body: Readable | undefined = hasBody(req) ? req : undefined;
  const sha = one(req.headers['x-amz-content-sha256']);
  if (t.s3 && hasSignedChunks(sha)) {
    const decoded = one(req.headers['x-amz-decoded-content-length']);
    if (decoded !== undefined) headers['content-length'] = decoded;
    delete headers['x-amz-decoded-content-length'];
    delete headers['x-amz-trailer'];
    const enc = (headers['content-encoding'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s && s !== 'aws-chunked');
    if (enc.length) headers['content-encoding'] = enc.join(', ');
    else delete headers['content-encoding'];
    body = req.pipe(new AwsChunkedDecoder());
  } else if (t.s3 && sha) headers['x-amz-content-sha256'] = sha;

  let up: IncomingMessage;
  try {
    up = await client.send(req.method ?? 'GET', await t.build(headers), t.origin, body);
  } catch (err) {
    const message = err instanceof OriginUnreachableError ? err.message : (err as Error).message;
    sendError(
      res,
      { s3: t.s3, head: req.method === 'HEAD', resource: t.resource },
      502,
      'BadGateway',
      `sluice cache: ${message}`,
    );
    return 0;
  }
  up.on('data', (c: Buffer) => {
    stats.bytesFromOrigin += c.length;
  });
  await relay(res, up, req.method === 'HEAD', t.rewrite);
  return up.statusCode ?? 0;
}
