// Reuses the buffers that whole files are read into (zip). A new buffer per file costs a page
// fault per 4 KiB when it is first filled and leaves the garbage collector hundreds of MB of
// external memory to find; on 2,000 × 100 KiB that was a fifth of the run. Buffers come in
// power-of-two capacities so files of similar sizes share them; a handful per size is kept.

const MIN_CLASS = 16; // 64 KiB

export class BufferPool {
  private readonly free = new Map<number, Buffer[]>();

  constructor(
    /** Larger requests are allocated and dropped as usual. */
    private readonly maxSize: number,
    private readonly keepPerClass = 8,
  ) {}

  private static classOf(size: number): number {
    return Math.max(MIN_CLASS, Math.ceil(Math.log2(Math.max(size, 1))));
  }

  /** A buffer of exactly `size` bytes (a view of a pooled one when it fits). */
  take(size: number): Buffer {
    if (size > this.maxSize) return Buffer.allocUnsafe(size);
    const k = BufferPool.classOf(size);
    const backing = this.free.get(k)?.pop() ?? Buffer.allocUnsafe(2 ** k);
    return backing.subarray(0, size);
  }

  /** Gives back a buffer from take(); the caller must not use it afterwards. */
  give(buf: Buffer): void {
    if (buf.length > this.maxSize) return;
    const k = BufferPool.classOf(buf.length);
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== 2 ** k) return; // not one of ours
    const backing = Buffer.from(buf.buffer, 0, 2 ** k);
    const list = this.free.get(k) ?? [];
    if (list.length < this.keepPerClass) list.push(backing);
    this.free.set(k, list);
  }
}
