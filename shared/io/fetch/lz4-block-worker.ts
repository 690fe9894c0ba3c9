// Decodes independent LZ4 blocks on a worker thread (lz4-block-thread.ts), so decompression
// overlaps tar parsing and file writes on the main thread (as `lz4 -dc | tar x` uses two
// processes). Compressed and decoded blocks live in SharedArrayBuffers that both threads see:
// nothing is copied or transferred between threads and nothing is allocated per block (see
// BlockRecycler for why that matters).
// lz4-napi has no decode-into-a-buffer call: every block comes back as a new 4 MiB Buffer, copied
// into the shared block and then garbage. The worker's heap is tiny, so V8 would collect those only
// when their external memory adds up (tens of MB, every one of them freshly page-faulted); a minor
// GC after each block (~0.1 ms on that heap) frees each output before the next is allocated, so
// the allocator hands back the same, already mapped memory: -20 to -30 MB RSS and less system time.
import v8 from 'node:v8';
import type { Worker } from 'node:worker_threads';
import { moduleBeside, startWorkerThread } from '../worker-thread.ts';
import type { BlockRecycler } from './block-recycler.ts';
import { ArchiveError } from './errors.ts';
import type { Lz4BlockReply, Lz4BlockRequest } from './lz4-block-thread.ts';

/**
 * Spare bytes in an input buffer: the block goes where its bytes line up with the downloaded
 * buffers they are copied from (see decodeFrame).
 */
export const INPUT_SLACK = 16;

interface Job {
  input?: SharedArrayBuffer;
  out?: SharedArrayBuffer;
  resolve: (r: { block: Buffer; digest?: number }) => void;
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
    // Gives contexts created from now on (this worker's) a gc() function; V8 has no per-isolate
    // switch for it, and Worker's execArgv refuses V8 flags. Contexts that exist are unchanged.
    v8.setFlagsFromString('--expose-gc');
    this.worker = startWorkerThread(moduleBeside('./lz4-block-thread', import.meta.url));
    // Unref'd while idle (an abandoned decoder must not keep the process alive), ref'd while a
    // reply is awaited (or Node could exit with the extraction half done).
    this.worker.unref();
    this.worker.on('message', (m: Lz4BlockReply) => {
      const job = this.waiting.shift();
      if (this.waiting.length === 0) this.worker.unref();
      if (!job) return;
      if (job.input?.byteLength === this.recycler.size + INPUT_SLACK && this.spareInputs.length < 8)
        this.spareInputs.push(job.input);
      if (m.ok)
        job.resolve({
          block: job.out ? Buffer.from(job.out, 0, m.length) : Buffer.alloc(0),
          digest: m.digest,
        });
      else
        job.reject(
          new ArchiveError(`corrupt lz4 stream: a block does not decode (${m.message})`, 'CORRUPT_LZ4'),
        );
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the lz4 worker exited')));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /**
   * A buffer for a compressed block of `n` bytes (with its 4-byte size prefix), to fill and pass
   * to decode(); it has INPUT_SLACK bytes to spare, so the block may start where it suits the copy.
   */
  inputBuffer(n: number): SharedArrayBuffer {
    const spare = this.spareInputs.pop();
    if (spare && spare.byteLength >= n + INPUT_SLACK - 4) return spare;
    return new SharedArrayBuffer(Math.max(n + INPUT_SLACK - 4, this.recycler.size + INPUT_SLACK));
  }

  private send(
    job: Omit<Job, 'resolve' | 'reject'>,
    msg: Lz4BlockRequest,
  ): Promise<{ block: Buffer; digest?: number }> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.worker.ref();
      this.waiting.push({ ...job, resolve, reject });
      this.worker.postMessage(msg);
    });
  }

  /**
   * Decodes the size-prepended block in `input[offset..offset+length)` (or copies it, when `stored`) into a
   * block of `capacity` bytes (the frame's block size: pooled when it is the recycler's size),
   * adding it to the running checksum when `hash`. Results come back in call order.
   */
  async decode(
    input: SharedArrayBuffer,
    offset: number,
    length: number,
    capacity: number,
    stored: boolean,
    hash: boolean,
  ): Promise<Buffer> {
    const out = capacity === this.recycler.size ? this.recycler.take() : new SharedArrayBuffer(capacity);
    return (await this.send({ input, out }, { op: 'block', input, offset, length, out, stored, hash })).block;
  }

  /** The checksum of the blocks sent with `hash` since the last digest (then resets it). */
  async digest(): Promise<number> {
    return (await this.send({}, { op: 'digest' })).digest ?? 0;
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
