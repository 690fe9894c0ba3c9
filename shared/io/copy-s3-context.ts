// What the S3 copies share: the context (pool, budget, tally, store) and the --update listing.
import type { ObjectInfo, ObjectStore } from '../ports/object-store.ts';
import type { LocalCopyContext } from './copy-local.ts';
import { chooseLocalFs, type VolumeKind } from './local-fs.ts';

export interface S3CopyContext extends LocalCopyContext {
  store: ObjectStore;
  notes: string[];
  signal?: AbortSignal;
  /** How to drive the local side (--volume); by its file-system type when absent or 'auto'. */
  volume?: VolumeKind;
}

/**
 * True when files downloaded into `dir` may be written with direct (synchronous) calls: a local
 * disk (local-fs.ts), or --volume local.
 */
export function writesInline(dir: string, ctx: S3CopyContext): boolean {
  return chooseLocalFs([dir], ctx.volume).mode === 'direct';
}

/** What already sits under a destination prefix (for --update), keyed by full key. */
export async function listExisting(
  store: ObjectStore,
  bucket: string,
  prefix: string,
): Promise<Map<string, ObjectInfo>> {
  const found = new Map<string, ObjectInfo>();
  for await (const page of store.list(bucket, prefix)) for (const o of page) found.set(o.key, o);
  return found;
}

/** The abort signal as an option object (absent when there is none, for exactOptionalPropertyTypes-style APIs). */
export function withSignal(ctx: S3CopyContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}
