// Signs requests to a deployed Sluice API (API Gateway with IAM auth) with SigV4, using the
// standard AWS credential chain (environment, profile, SSO, instance role...). The CLI calls this
// when it talks to an `*.execute-api.*.amazonaws.com` endpoint or SLUICE_API_AUTH=iam.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** SHA-256 (and HMAC-SHA-256 when given a key) in the shape the SigV4 signer expects. */
export class NodeSha256 {
  private h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    throw new Error('not supported');
  }
}

function toBuffer(d: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d);
}

/** API Gateway endpoints name their region: the signature's region comes from the hostname. */
const EXECUTE_API = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/;

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  /** Text (JSON) or bytes (a multipart upload). */
  body?: string | Uint8Array;
}

/** Returns the headers to send (the given ones plus host, x-amz-date, authorization, token). */
export async function signApiRequest(
  req: SignableRequest,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Record<string, string>> {
  const region =
    EXECUTE_API.exec(req.url.hostname)?.[1] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(),
    sha256: NodeSha256,
  });
  const query: Record<string, string> = {};
  for (const [k, v] of req.url.searchParams) query[k] = v;
  const signed = await signer.sign({
    method: req.method,
    protocol: req.url.protocol,
    hostname: req.url.hostname,
    ...(req.url.port ? { port: Number(req.url.port) } : {}),
    path: req.url.pathname,
    query,
    headers: { ...req.headers, host: req.url.host },
    ...(req.body !== undefined ? { body: req.body } : {}),
  });
  return signed.headers as Record<string, string>;
}
