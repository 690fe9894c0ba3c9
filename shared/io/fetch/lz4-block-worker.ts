// Decodes independent LZ4 blocks on a worker thread, so decompression overlaps tar parsing and file
// writes on the main thread (as `lz4 -dc | tar x` uses two processes). Compressed and decoded
// blocks live in SharedArrayBuffers that both threads see: nothing is copied or transferred
// between threads and nothing is allocated per block (see BlockRecycler for why that matters).
// The worker is plain JavaScript evaluated from a string: worker threads do not inherit the
// TypeScript loader. lz4-napi's output (mimalloc) is allocated and freed on the worker's thread,
// which keeps the RSS flat.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { BlockRecycler } from './block-recycler.ts';
import { ArchiveError } from './errors.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { uncompressSync } = require(workerData.lz4Path);
parentPort.on('message', (m) => {
  try {
    const out = uncompressSync(new Uint8Array(m.input, 0, m.length));
    if (out.length > m.out.byteLength) throw new Error('a block decodes to more than the frame block size');
    new Uint8Array(m.out).set(out);
    parentPort.postMessage({ ok: true, length: out.length });
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String((err && err.message) || err) });
  }
});
`;

type Reply = { ok: true; length: number } | { ok: false; message: string };

interface Job {
  input: SharedArrayBuffer;
  out: SharedArrayBuffer;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

export class Lz4BlockWorker {
  private readonly worker: Worker;
  private readonly waiting: Job[] = [];
  private failed: Error | undefined;
  /** Compressed-block buffers the worker is done with. */
  private readonly spareInputs: SharedArrayBuffer[] = [];

  constructor(
    /** Where decoded blocks come from and go back to. */
    readonly recycler: BlockRecycler,
  ) {
    const lz4Path = createRequire(import.meta.url).resolve('lz4-napi');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lz4Path } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const job = this.waiting.shift();
      if (!job) return;
      if (job.input.byteLength === this.recycler.size + 4 && this.spareInputs.length < 8) this.spareInputs.push(job.input);
      if (m.ok) job.resolve(Buffer.from(job.out, 0, m.length));
      else {
        this.recycler.drop(job.out);
        job.reject(new ArchiveError(`corrupt lz4 stream: a block does not decode (${m.message})`, 'CORRUPT_LZ4'));
      }
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the lz4 worker exited')));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** A buffer for a compressed block of `n` bytes, to fill and pass to decode(). */
  inputBuffer(n: number): SharedArrayBuffer {
    const spare = this.spareInputs.pop();
    if (spare && spare.byteLength >= n) return spare;
    return new SharedArrayBuffer(n <= this.recycler.size + 4 ? this.recycler.size + 4 : n);
  }

  /**
   * Decodes the size-prepended block in `input[0..length)` into a block of `capacity` bytes (the
   * frame's block size: pooled when it is the recycler's size). Results come back in call order.
   */
  decode(input: SharedArrayBuffer, length: number, capacity: number): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    const out = capacity === this.recycler.size ? this.recycler.take() : new SharedArrayBuffer(capacity);
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, out, resolve, reject });
      this.worker.postMessage({ input, length, out });
    });
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
