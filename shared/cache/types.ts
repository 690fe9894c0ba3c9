// The data the cache's parts pass between each other: its options, what it knows about an object
// at its origin, and the counters `GET /-/stats` reports.

export type Log = (line: string) => void;

export interface CacheOptions {
  /** The cache directory (created if missing). */
  dir: string;
  /** Upper bound of the blocks and metadata on disk, bytes. */
  maxSize: number;
  blockSize: number;
  /** How long HEAD answers and listings are trusted, ms. */
  metaTtlMs: number;
  /** Blocks fetched ahead of sequential readers. */
  readAhead: number;
  /** Block fetches in flight at once. */
  originFetches: number;
  log: Log;
}

/** An object as its origin last described it: enough to answer HEAD and to key its blocks. */
export interface ObjectMeta {
  size: number;
  etag?: string;
  lastModified?: string;
  /**
   * What identifies these exact bytes: the strong ETag, else Last-Modified, with the size. Blocks
   * are keyed by it, so two versions never mix.
   */
  version: string;
  /** Headers replayed on answers (content type, user metadata...). */
  headers: Record<string, string>;
  /** When the origin last confirmed it (ms since the epoch); 0 = loaded from disk, unconfirmed. */
  checkedAt: number;
}

/** Counters since start, plus the disk usage (GET /-/stats). */
export interface CacheStats {
  /** Block reads served from complete cached blocks. */
  hits: number;
  /** Block reads that started an origin fetch. */
  misses: number;
  /** Block reads that joined a fetch another reader (or read-ahead) had started. */
  coalesced: number;
  /** Blocks fetched ahead of a reader. */
  readAheads: number;
  bytesFromCache: number;
  bytesFromOrigin: number;
  /** Requests sent to origins (blocks, HEADs, listings, pass-through). */
  originRequests: number;
  /** Requests answered without the block store (writes, uncacheable objects, full disk). */
  passThrough: number;
  evictions: number;
  /** Blocks found damaged (checksum, length) and dropped. */
  corruptBlocks: number;
  /** Objects seen with a new version (their old blocks dropped). */
  versionChanges: number;
  /** Answers served from expired metadata because the origin was unreachable. */
  staleServed: number;
}

export interface CacheStatsSnapshot extends CacheStats {
  sizeOnDisk: number;
  blocks: number;
  objects: number;
  maxSize: number;
  blockSize: number;
  /** True while a full disk makes the cache pass reads through. */
  degraded: boolean;
  startedAt: string;
}

export function newStats(): CacheStats {
  return {
    hits: 0,
    misses: 0,
    coalesced: 0,
    readAheads: 0,
    bytesFromCache: 0,
    bytesFromOrigin: 0,
    originRequests: 0,
    passThrough: 0,
    evictions: 0,
    corruptBlocks: 0,
    versionChanges: 0,
    staleServed: 0,
  };
}
