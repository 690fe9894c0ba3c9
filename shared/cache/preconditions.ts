// A reader's conditional headers (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since,
// If-Range) judged against the object's known version, as the origin would (RFC 9110 §13): the
// cache answers 304/412 itself instead of asking the origin. Pure functions.
import type { IncomingHttpHeaders } from 'node:http';
import type { ObjectMeta } from './types.ts';

const strong = (tag: string) => tag.trim().replace(/^W\//, '');

function listMatches(header: string, etag: string | undefined): boolean {
  if (header.trim() === '*') return true;
  if (!etag) return false;
  const want = strong(etag);
  return header.split(',').some((t) => strong(t) === want);
}

const time = (s: string | undefined) => (s ? Date.parse(s) : Number.NaN);

/** 200 (go on), 304 (not modified) or 412 (precondition failed). */
export function evaluatePreconditions(h: IncomingHttpHeaders, meta: ObjectMeta): 200 | 304 | 412 {
  const lm = time(meta.lastModified);
  const ifMatch = h['if-match'];
  if (ifMatch !== undefined) {
    if (!listMatches(ifMatch, meta.etag)) return 412;
  } else {
    const since = time(h['if-unmodified-since']);
    if (!Number.isNaN(since) && !Number.isNaN(lm) && lm > since) return 412;
  }
  const ifNoneMatch = h['if-none-match'];
  if (ifNoneMatch !== undefined) {
    if (listMatches(ifNoneMatch, meta.etag)) return 304;
  } else {
    const since = time(h['if-modified-since']);
    if (!Number.isNaN(since) && !Number.isNaN(lm) && lm <= since) return 304;
  }
  return 200;
}

/** False when an If-Range names another version: then the Range is ignored (whole object sent). */
export function rangeStillApplies(h: IncomingHttpHeaders, meta: ObjectMeta): boolean {
  const raw = h['if-range'];
  const ifRange = Array.isArray(raw) ? raw[0] : raw;
  if (ifRange === undefined) return true;
  if (ifRange.trim().startsWith('"') || ifRange.trim().startsWith('W/'))
    return (
      !ifRange.trim().startsWith('W/') && meta.etag !== undefined && strong(ifRange) === strong(meta.etag)
    );
  return meta.lastModified !== undefined && time(ifRange) === time(meta.lastModified);
}
