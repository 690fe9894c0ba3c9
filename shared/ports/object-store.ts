// The object-storage port used by the IO engine (cp, zip, rm, fetch, cache), and the provider that
// hands stores out. shared/io never imports an SDK: shared/adapters/aws implements both.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  key: string;
  size: number;
  mtime?: Date;
  etag?: string;
}

export interface ObjectHead extends ObjectInfo {
  contentType?: string;
  /** Whatever the store recorded when the object was written (e.g. S3 user metadata). */
  metadata?: Record<string, string>;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface GetOptions {
  range?: ByteRange;
  /** Fail (ObjectChangedError) if the object's ETag is no longer this one. */
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  /**
   * Ask for at most this many keys in the first page (later pages are full), so that work on the
   * first objects starts after a short page instead of a long one. A hint: stores may ignore it.
   */
  firstPageSize?: number;
}

export interface PutOptions {
  /** Size if known (lets the adapter pick single-part vs multipart). */
  size?: number;
  partSize?: number;
  /** Parts in flight for one multipart upload. */
  partConcurrency?: number;
  contentType?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

export interface DeleteFailure {
  key: string;
  message: string;
}

export interface ObjectStore {
  head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead>;
  /** Pages of objects under a prefix (recursive), in key order. */
  list(bucket: string, prefix: string, signal?: AbortSignal, opts?: ListOptions): AsyncIterable<ObjectInfo[]>;
  get(
    bucket: string,
    key: string,
    opts?: GetOptions,
  ): Promise<{ body: Readable; size: number; etag?: string }>;
  put(bucket: string, key: string, body: Readable | Buffer, opts?: PutOptions): Promise<void>;
  /** Server-side copy (no bytes through the client); multipart copy for large objects. */
  copy(
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string },
    size: number,
  ): Promise<void>;
  /** Deletes up to 1000 keys in one request; returns the keys that failed. */
  deleteMany(bucket: string, keys: string[]): Promise<DeleteFailure[]>;
}

/**
 * Hands out object stores by URL scheme. Whoever assembles a CLI command or a host process passes
 * one in, so shared/io names no implementation and loads no SDK a local-only run never needs.
 */
export interface ObjectStores {
  /** The store for s3:// URLs: built on the first call, the same one after. */
  s3(): Promise<ObjectStore>;
}
