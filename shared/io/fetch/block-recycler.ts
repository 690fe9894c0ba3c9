// Reuses the big decoded blocks (4 MiB ArrayBuffers) instead of allocating one per block: every
// new ArrayBuffer counts as external memory and a few hundred of them per second kept V8 running
// full garbage collections (~25% of the main thread). A block returns to the pool when the decoder
// has moved past it and no file writer still holds a view of it.
export class BlockRecycler {
  private readonly free: ArrayBuffer[] = [];
  private readonly refs = new Map<ArrayBuffer, number>();

  constructor(
    /** Only buffers of exactly this size are pooled. */
    readonly size: number,
    private readonly maxFree = 16,
  ) {}

  /** A free block, if any. */
  take(): ArrayBuffer | undefined {
    return this.free.pop();
  }

  /** Someone keeps a view of `ab` beyond the current call. */
  hold(ab: ArrayBufferLike): void {
    const buf = ab as ArrayBuffer;
    this.refs.set(buf, (this.refs.get(buf) ?? 0) + 1);
  }

  /** Releases one hold; the last one returns the block to the pool. */
  drop(ab: ArrayBufferLike): void {
    const buf = ab as ArrayBuffer;
    const n = (this.refs.get(buf) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(buf, n);
      return;
    }
    this.refs.delete(buf);
    if (buf.byteLength === this.size && this.free.length < this.maxFree) this.free.push(buf);
  }
}
