// One object at its origin, as the cache's parts see it: a stable identity (the cache key's prefix),
// the origin to name in errors, and how to build a GET or HEAD for it (signed, for S3).
import type { S3Target, S3Upstream, UpstreamRequest } from './s3-upstream.ts';

export interface ObjectRef {
  /** Origin and name (and S3 version id): what the object's blocks are keyed by. */
  id: string;
  /** Named in a 502 when the origin cannot be reached. */
  origin: string;
  /** True for S3: readers' answers are S3-style (XML errors), and If-Match is honoured upstream. */
  s3: boolean;
  request(method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<UpstreamRequest>;
}

export const USER_AGENT = 'sluice-cache/1';

export function s3ObjectRef(
  up: S3Upstream,
  bucket: string,
  key: string,
  query: [string, string][],
): ObjectRef {
  const versionId = query.find(([k]) => k === 'versionId')?.[1];
  const target: S3Target = { bucket, key, query: versionId ? [['versionId', versionId]] : [] };
  return {
    id: `s3 ${up.origin}/${bucket}/${key}${versionId ? `?versionId=${versionId}` : ''}`,
    origin: up.origin,
    s3: true,
    request: (method, headers) => up.sign(method, target, { 'user-agent': USER_AGENT, ...headers }),
  };
}

/** The ids an S3 write to bucket/key makes stale (the object, and the version it names). */
export function s3ObjectIds(
  origin: string,
  bucket: string,
  key: string,
  query: [string, string][],
): string[] {
  const base = `s3 ${origin}/${bucket}/${key}`;
  const versionId = query.find(([k]) => k === 'versionId')?.[1];
  return versionId ? [base, `${base}?versionId=${versionId}`] : [base];
}

/** An HTTP(S) object: the URL with its query string is the identity. */
export function httpObjectRef(url: string, origin: string): ObjectRef {
  return {
    id: url,
    origin,
    s3: false,
    request: async (_method, headers) => ({
      url,
      // Identity encoding: the cache stores and slices the origin's bytes, not a compressed form.
      headers: { 'accept-encoding': 'identity', 'user-agent': USER_AGENT, ...headers },
    }),
  };
}
