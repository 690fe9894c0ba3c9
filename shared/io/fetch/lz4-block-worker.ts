// Decodes independent LZ4 blocks on a worker thread, so decompression overlaps tar parsing and file
// writes on the main thread (like `lz4 -dc | tar x` uses two processes). Blocks go in and come back
// as transferred ArrayBuffers (no copies between threads), in order.
// The worker is plain JavaScript evaluated from a string: it must load without the TypeScript
// loader, which worker threads do not inherit. lz4-napi allocates its output with mimalloc; the
// worker allocates and frees it on the same thread, which keeps the RSS flat.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { BlockRecycler } from './block-recycler.ts';
import { ArchiveError } from './errors.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { uncompressSync } = require(workerData.lz4Path);
parentPort.on('message', (m) => {
  try {
    const out = uncompressSync(new Uint8Array(m.block, 0, m.length));
    const ab = m.out && m.out.byteLength >= out.length ? m.out : new ArrayBuffer(Math.max(out.length, m.capacity));
    new Uint8Array(ab).set(out);
    parentPort.postMessage({ ok: true, out: ab, length: out.length, block: m.block }, [ab, m.block]);
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message || err), block: m.block }, [m.block]);
  }
});
`;

type Reply =
  | { ok: true; out: ArrayBuffer; length: number; block: ArrayBuffer }
  | { ok: false; message: string; block: ArrayBuffer };

export class Lz4BlockWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | undefined;
  /** Input blocks back from the worker, reused for the next ones. */
  private readonly spareBlocks: ArrayBuffer[] = [];

  constructor(
    /** Where output blocks come from and go back to. */
    readonly recycler: BlockRecycler,
  ) {
    const lz4Path = createRequire(import.meta.url).resolve('lz4-napi');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lz4Path } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      if (this.spareBlocks.length < 4) this.spareBlocks.push(m.block);
      const w = this.waiting.shift();
      if (!w) return;
      if (m.ok) w.resolve(Buffer.from(m.out, 0, m.length));
      else w.reject(new ArchiveError(`corrupt lz4 stream: a block does not decode (${m.message})`, 'CORRUPT_LZ4'));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the lz4 worker exited')));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** An input block of at least `n` bytes to fill and pass to decode(). */
  blockBuffer(n: number): ArrayBuffer {
    const b = this.spareBlocks.pop();
    return b && b.byteLength >= n ? b : new ArrayBuffer(Math.max(n, this.recycler.size + 4));
  }

  /**
   * Decodes the size-prepended block in `block[0..length)` (the worker takes `block` over) into a
   * buffer of `capacity` bytes (the frame's block size), pooled when it is the recycler's size.
   */
  decode(block: ArrayBuffer, length: number, capacity: number): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      const out = capacity === this.recycler.size ? this.recycler.take() : undefined;
      this.worker.postMessage({ block, length, out, capacity }, out ? [block, out] : [block]);
    });
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
