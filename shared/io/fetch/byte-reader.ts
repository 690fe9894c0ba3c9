// Pulls exact byte counts out of an async stream of buffers of any size (frame headers, blocks),
// copying only when the bytes span two buffers.
export class ByteReader {
  private bufs: Buffer[] = [];
  private off = 0;
  private avail = 0;
  private eof = false;

  constructor(
    private readonly it: AsyncIterator<Buffer>,
    /**
     * Copy what is buffered before asking the stream for more: for streams whose buffers may be
     * reused once the next one is asked for (pooled lz4 blocks). Meant for short reads (a head).
     */
    private readonly copyBeforeNext = false,
  ) {}

  /** Ensures `n` bytes are buffered; false if the stream ends first. */
  async fill(n: number): Promise<boolean> {
    while (this.avail < n && !this.eof) {
      if (this.copyBeforeNext && this.avail) {
        this.bufs = [Buffer.concat([this.bufs[0]!.subarray(this.off), ...this.bufs.slice(1)])];
        this.off = 0;
      }
      const r = await this.it.next();
      if (r.done) this.eof = true;
      else if (r.value.length) {
        this.bufs.push(r.value);
        this.avail += r.value.length;
      }
    }
    return this.avail >= n;
  }

  get buffered(): number {
    return this.avail;
  }

  /** Where the next byte sits in its ArrayBuffer, modulo 8 (0 when nothing is buffered). */
  get alignment(): number {
    const first = this.bufs[0];
    return first ? (first.byteOffset + this.off) & 7 : 0;
  }

  /** `n` buffered bytes, without a copy when they sit in one buffer. */
  take(n: number): Buffer {
    const first = this.bufs[0];
    if (first && first.length - this.off >= n) {
      const out = first.subarray(this.off, this.off + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    this.copyTo(out, 0, n);
    return out;
  }

  /** Copies `n` buffered bytes into `target` at `at`. */
  copyTo(target: Buffer, at: number, n: number): void {
    let done = 0;
    while (done < n) {
      const b = this.bufs[0]!;
      const k = Math.min(n - done, b.length - this.off);
      b.copy(target, at + done, this.off, this.off + k);
      done += k;
      this.advance(k);
    }
  }

  /** Drops `n` buffered bytes. */
  skip(n: number): void {
    this.advance(n);
  }

  private advance(n: number): void {
    this.avail -= n;
    this.off += n;
    while (this.bufs.length && this.off >= this.bufs[0]!.length) {
      this.off -= this.bufs[0]!.length;
      this.bufs.shift();
    }
  }

  /** Hands out what is buffered, then the rest of the stream as it comes. */
  async *rest(): AsyncGenerator<Buffer> {
    try {
      if (this.avail) {
        const first = this.bufs[0]!.subarray(this.off);
        const others = this.bufs.slice(1);
        this.bufs = [];
        this.off = 0;
        this.avail = 0;
        yield first;
        for (const b of others) yield b;
      }
      if (this.eof) return;
      for (;;) {
        const r = await this.it.next();
        if (r.done) return;
        yield r.value;
      }
    } finally {
      // A consumer that stops early closes the source too (its downloads, its decoder thread).
      await this.it.return?.();
    }
  }
}
