// The cache's way to S3 (shared/cache/s3-upstream.ts): requests addressed as the standard AWS
// environment says (AWS_ENDPOINT_URL_S3, region, path style; virtual-hosted on AWS itself when the
// bucket name allows) and signed with SigV4 by the cache's own credential chain — the environment's
// keys when set, else the SDK's default chain (profiles, SSO, container and instance roles).
import { SignatureV4 } from '@smithy/signature-v4';
import type { S3Target, S3Upstream, UpstreamRequest } from '../../cache/s3-upstream.ts';
import { NodeSha256 } from './api-request-signer.ts';
import {
  credentialsFromEnv,
  type EnvCredentials,
  forcePathStyleFromEnv,
  regionFromEnv,
  s3EndpointFromEnv,
} from './s3-env.ts';

/** RFC 3986 escaping, as SigV4 canonicalises S3 keys (each segment; '/' kept). */
function escapeKey(key: string): string {
  if (/^[A-Za-z0-9\-._~/]*$/.test(key)) return key;
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

const escapeQuery = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function createS3UpstreamSigner(env: NodeJS.ProcessEnv = process.env): S3Upstream {
  const endpoint = s3EndpointFromEnv(env);
  const pathStyle = forcePathStyleFromEnv(env);
  const region = regionFromEnv(env);
  const keys = credentialsFromEnv(env);
  // The SDK's chain takes ~100 ms to load: only when the environment has no keys. Its provider
  // memoises credentials and refreshes them before they expire.
  let chain: (() => Promise<EnvCredentials>) | undefined;
  const fromChain = async (): Promise<EnvCredentials> => {
    if (!chain) {
      const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
      chain = defaultProvider();
    }
    return chain();
  };
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: keys ?? fromChain,
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const base = endpoint ? new URL(endpoint) : undefined;
  const origin = base ? `${base.protocol}//${base.host}` : `https://s3.${region}.amazonaws.com`;

  const address = (t: S3Target): { protocol: string; host: string; path: string } => {
    const key = t.key ? `/${escapeKey(t.key)}` : '';
    // No bucket: the service itself (ListBuckets).
    if (!t.bucket)
      return base
        ? { protocol: base.protocol, host: base.host, path: base.pathname.replace(/\/?$/, '/') }
        : { protocol: 'https:', host: `s3.${region}.amazonaws.com`, path: '/' };
    if (base) {
      const prefix = base.pathname.replace(/\/$/, '');
      if (pathStyle) return { protocol: base.protocol, host: base.host, path: `${prefix}/${t.bucket}${key}` };
      return { protocol: base.protocol, host: `${t.bucket}.${base.host}`, path: `${prefix}${key || '/'}` };
    }
    // Virtual-hosted style needs a DNS- and TLS-safe bucket name (no dots).
    if (/^[a-z0-9-]+$/.test(t.bucket))
      return { protocol: 'https:', host: `${t.bucket}.s3.${region}.amazonaws.com`, path: key || '/' };
    return { protocol: 'https:', host: `s3.${region}.amazonaws.com`, path: `/${t.bucket}${key}` };
  };

  return {
    origin,
    async sign(method: string, t: S3Target, headers: Record<string, string>): Promise<UpstreamRequest> {
      const { protocol, host, path } = address(t);
      const query: Record<string, string> = {};
      for (const [k, v] of t.query) query[k] = v;
      const signed = await signer.sign({
        method,
        protocol,
        hostname: host.replace(/:\d+$/, ''),
        path,
        query,
        headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers, host },
      });
      const search = t.query.map(([k, v]) => `${escapeQuery(k)}=${escapeQuery(v)}`).join('&');
      return {
        url: `${protocol}//${host}${path}${search ? `?${search}` : ''}`,
        headers: signed.headers as Record<string, string>,
      };
    },
  };
}
