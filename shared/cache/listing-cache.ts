// Listings (ListObjectsV2 and other bucket GETs that only list) kept in memory for the TTL, bounded
// in bytes, least recently stored dropped first. A write to the bucket through the cache drops its
// listings at once.
import { LISTING_CACHE_BYTES } from './constants.ts';

export interface CachedListing {
  at: number;
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Query parameters of a bucket GET that only lists (anything else is passed through uncached). */
const LIST_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'x-id',
]);

export function isListing(method: string, key: string, query: [string, string][]): boolean {
  return method === 'GET' && key === '' && query.every(([k]) => LIST_PARAMS.has(k));
}

/** The cache key of a listing: bucket and its sorted parameters. */
export function listingKey(origin: string, bucket: string, query: [string, string][]): string {
  const q = [...query].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `${origin}/${bucket}?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}`;
}

export class ListingCache {
  private readonly entries = new Map<string, CachedListing>();
  private bytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly limit = LISTING_CACHE_BYTES,
  ) {}

  get(key: string, now: number): CachedListing | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.at < this.ttlMs) return e;
    this.delete(key);
    return undefined;
  }

  set(key: string, e: CachedListing): void {
    this.delete(key);
    if (e.body.length > this.limit) return;
    this.entries.set(key, e);
    this.bytes += e.body.length;
    for (const k of this.entries.keys()) {
      if (this.bytes <= this.limit) break;
      this.delete(k);
    }
  }

  /** Drops every listing of a bucket (keys start with `origin/bucket?`). */
  dropBucket(origin: string, bucket: string): void {
    const prefix = `${origin}/${bucket}?`;
    for (const k of [...this.entries.keys()]) if (k.startsWith(prefix)) this.delete(k);
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.bytes -= e.body.length;
    this.entries.delete(key);
  }
}
