// Large values (results, flowInputs over the inline threshold) live here; a pointer travels
// through queues and tables instead.

export interface BlobStore {
  put(key: string, data: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  delete(key: string): Promise<void>;
}

/** Values whose JSON is larger than this are stored as blobs. */
export const INLINE_VALUE_LIMIT = 64 * 1024;
