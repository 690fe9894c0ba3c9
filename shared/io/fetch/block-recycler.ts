// Reuses the decoded lz4 blocks (4 MiB SharedArrayBuffers the decoder worker writes into) instead
// of allocating one per block: each new (or transferred-in) ArrayBuffer counts as external memory,
// and a few hundred per second kept V8 running full collections (~25% of the main thread). A block
// goes back to the pool when the decoder has moved past it and no file writer holds a view of it.
export class BlockRecycler {
  private readonly free: SharedArrayBuffer[] = [];
  private readonly refs = new Map<ArrayBufferLike, number>();

  constructor(
    /** Every pooled block has this size. */
    readonly size: number,
    private readonly maxFree = 8,
  ) {}

  /** A free block (or a new one). */
  take(): SharedArrayBuffer {
    return this.free.pop() ?? new SharedArrayBuffer(this.size);
  }

  /** Someone keeps a view of `ab` beyond the current call. */
  hold(ab: ArrayBufferLike): void {
    this.refs.set(ab, (this.refs.get(ab) ?? 0) + 1);
  }

  /** Releases one hold; the last one returns a pooled block to the pool. */
  drop(ab: ArrayBufferLike): void {
    const n = (this.refs.get(ab) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(ab, n);
      return;
    }
    this.refs.delete(ab);
    if (ab instanceof SharedArrayBuffer && ab.byteLength === this.size && this.free.length < this.maxFree)
      this.free.push(ab);
  }
}
