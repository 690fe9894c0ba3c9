// How both backends store values: JSON inline up to INLINE_VALUE_LIMIT, otherwise in the
// BlobStore with only its key kept (large values never travel through tables or queues).
import type { BlobStore } from '../ports/blob-store.ts';
import { INLINE_VALUE_LIMIT } from '../ports/blob-store.ts';
import type { JobState } from '../ports/job-state.ts';

export interface StoredValue {
  text?: string;
  blob?: string;
}

export async function storeValue(blobs: BlobStore, value: unknown, key: string): Promise<StoredValue> {
  if (value === undefined) return {};
  const text = JSON.stringify(value);
  if (text.length <= INLINE_VALUE_LIMIT) return { text };
  await blobs.put(key, Buffer.from(text));
  return { blob: key };
}

export async function loadValue(blobs: BlobStore, text: unknown, blob: unknown): Promise<unknown> {
  if (typeof blob === 'string') return JSON.parse((await blobs.get(blob)).toString('utf8'));
  if (typeof text === 'string') return JSON.parse(text);
  return undefined;
}

/**
 * A job's state without its pipeline (stored once, separately, as it can be large) and without
 * its nodes (stored one record per node, so an event rewrites only the nodes it changed).
 */
export function jobStateText(state: JobState): string {
  const { pipeline: _p, nodes: _n, ...rest } = state;
  return JSON.stringify(rest);
}
