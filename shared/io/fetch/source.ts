// A ByteSource is anything the RangeFetcher can read byte ranges from: an HTTP(S) URL, an S3
// object (through the ObjectStore port) or a local file. Each answers a probe (size, validators,
// whether ranges work) and opens one ranged stream per request.
import type { Readable } from 'node:stream';
import type { ExpectedDigest } from './checksum.ts';

export interface SourceInfo {
  /** Total length in bytes; undefined when the server does not say (chunked, no ranges). */
  size: number | undefined;
  /** True when byte ranges can be requested (parallel chunks, resumable retries). */
  ranges: boolean;
  /** Validators: a later response that disagrees means the object changed. */
  etag?: string;
  lastModified?: string;
  /** What the source vouches for about the whole object (checked while streaming). */
  digests?: ExpectedDigest[];
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface ByteSource {
  /** What to call it in messages (the URL, s3://bucket/key, a path). */
  readonly name: string;
  probe(signal: AbortSignal): Promise<SourceInfo>;
  /**
   * Opens the bytes of `range` (or the whole object when undefined). Must throw SourceChangedError
   * when the object no longer matches `expect`, HttpStatusError/NotFoundError for bad statuses.
   */
  open(range: ByteRange | undefined, expect: SourceInfo, signal: AbortSignal): Promise<Readable>;
}
