// What an origin's answer says about an object: its size, the version its bytes belong to, and the
// headers to replay to readers. Only objects with a strong validator (ETag, else Last-Modified)
// are cached: without one, a change at the origin could not be told apart from the old bytes.
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectMeta } from './types.ts';

/** Headers of an object (not of one answer) that readers get back from the cache. */
const REPLAYED =
  /^(content-type|content-encoding|content-language|content-disposition|cache-control|expires|x-amz-meta-.+|x-amz-version-id|x-amz-server-side-encryption.*|x-amz-storage-class|x-amz-tagging-count|x-amz-website-redirect-location|x-amz-object-lock-.+|x-amz-restore|x-amz-replication-status)$/;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** The object's total size from a 200/206 answer (undefined when it does not say). */
export function objectSize(status: number, h: IncomingHttpHeaders): number | undefined {
  let n: number;
  if (status === 206) {
    const m = /\/(\d+)\s*$/.exec(one(h['content-range']) ?? '');
    if (!m) return undefined;
    n = Number(m[1]);
  } else {
    const len = one(h['content-length']);
    if (len === undefined) return undefined;
    n = Number(len);
  }
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** The version the answer's bytes belong to, or undefined when the origin gives no strong validator. */
export function versionOf(h: IncomingHttpHeaders, size: number): string | undefined {
  const etag = one(h.etag);
  if (etag && !etag.startsWith('W/')) return `etag ${etag} ${size}`;
  const lm = one(h['last-modified']);
  if (lm && !Number.isNaN(Date.parse(lm))) return `date ${lm} ${size}`;
  return undefined;
}

/** Metadata from a 200/206 answer (GET or HEAD); undefined when the object cannot be cached. */
export function metaFromAnswer(status: number, h: IncomingHttpHeaders, now: number): ObjectMeta | undefined {
  const size = objectSize(status, h);
  if (size === undefined) return undefined;
  const version = versionOf(h, size);
  if (!version) return undefined;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) {
    const s = one(v);
    if (s !== undefined && REPLAYED.test(k)) headers[k] = s;
  }
  const etag = one(h.etag);
  const lastModified = one(h['last-modified']);
  return {
    size,
    ...(etag ? { etag } : {}),
    ...(lastModified ? { lastModified } : {}),
    version,
    headers,
    checkedAt: now,
  };
}

/** True when an answer to a block request carries bytes of `meta`'s version. */
export function answerMatches(status: number, h: IncomingHttpHeaders, meta: ObjectMeta): boolean {
  const size = objectSize(status, h);
  return size === meta.size && versionOf(h, size) === meta.version;
}

/** Persisted beside an object's blocks, so a restarted cache knows what its blocks belong to. */
export interface PersistedMeta {
  format: 1;
  /** The object's identity (origin and name), for people looking at the directory. */
  id: string;
  meta: ObjectMeta;
}

export function parsePersistedMeta(text: string): PersistedMeta | undefined {
  try {
    const p = JSON.parse(text) as PersistedMeta;
    const m = p?.meta;
    if (p.format !== 1 || typeof p.id !== 'string' || !m) return undefined;
    if (!Number.isSafeInteger(m.size) || typeof m.version !== 'string' || typeof m.headers !== 'object')
      return undefined;
    return { format: 1, id: p.id, meta: { ...m, checkedAt: 0 } };
  } catch {
    return undefined;
  }
}
