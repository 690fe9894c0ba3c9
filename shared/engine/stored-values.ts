// How both backends store values: JSON inline up to INLINE_VALUE_LIMIT, otherwise in the
// BlobStore with only its key kept (large values never travel through tables or queues).
import { createHash } from 'node:crypto';
import type { BlobStore } from '../ports/blob-store.ts';
import { INLINE_VALUE_LIMIT } from '../ports/blob-store.ts';
import type { JobState } from '../ports/job-state.ts';

export interface StoredValue {
  text?: string;
  blob?: string;
}

/** `key`: the blob's key, or what makes it (called only for a value too large to keep inline). */
export async function storeValue(
  blobs: BlobStore,
  value: unknown,
  key: string | (() => string),
): Promise<StoredValue> {
  if (value === undefined) return {};
  const text = JSON.stringify(value);
  if (text.length <= INLINE_VALUE_LIMIT) return { text };
  const blob = typeof key === 'string' ? key : key();
  await blobs.put(blob, Buffer.from(text));
  return { blob };
}

export async function loadValue(blobs: BlobStore, text: unknown, blob: unknown): Promise<unknown> {
  if (typeof blob === 'string') return JSON.parse((await blobs.get(blob)).toString('utf8'));
  if (typeof text === 'string') return JSON.parse(text);
  return undefined;
}

/**
 * The blob key of a task's input or result. Never built from user-given names: a task id holds
 * the node name (any text, up to 128 characters), so it is hashed into a key any store accepts
 * (a 300-character name made a file name too long; a space was refused by the file store).
 */
export function taskBlobKey(jobId: string, taskId: string, kind: 'input' | 'result'): string {
  const id = createHash('sha256').update(taskId).digest('hex').slice(0, 32);
  return `tasks/${jobId}/${id}.${kind}.json`;
}

/**
 * A job's state without its pipeline (stored once, separately, as it can be large) and without
 * its nodes (stored one record per node, so an event rewrites only the nodes it changed).
 */
export function jobStateText(state: JobState): string {
  const { pipeline: _p, nodes: _n, ...rest } = state;
  return JSON.stringify(rest);
}
