// Decodes independent LZ4 blocks on a worker thread, so decompression overlaps tar parsing and file
// writes on the main thread (like `lz4 -dc | tar x` uses two processes). Blocks go in and come back
// as transferred ArrayBuffers (no copies between threads), in order.
// The worker is plain JavaScript evaluated from a string: it must load without the TypeScript
// loader, which worker threads do not inherit. lz4-napi allocates its output with mimalloc; the
// worker allocates and frees it on the same thread, which keeps the RSS flat.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ArchiveError } from './errors.ts';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { uncompressSync } = require(workerData.lz4Path);
parentPort.on('message', (m) => {
  try {
    const out = uncompressSync(new Uint8Array(m.block, 0, m.length));
    const ab = new ArrayBuffer(out.length);
    new Uint8Array(ab).set(out);
    parentPort.postMessage({ ok: true, out: ab }, [ab]);
  } catch (err) {
    parentPort.postMessage({ ok: false, message: String(err && err.message || err) });
  }
});
`;

type Reply = { ok: true; out: ArrayBuffer } | { ok: false; message: string };

export class Lz4BlockWorker {
  private readonly worker: Worker;
  private readonly waiting: { resolve: (b: Buffer) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | undefined;

  constructor() {
    const lz4Path = createRequire(import.meta.url).resolve('lz4-napi');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { lz4Path } });
    this.worker.unref();
    this.worker.on('message', (m: Reply) => {
      const w = this.waiting.shift();
      if (!w) return;
      if (m.ok) w.resolve(Buffer.from(m.out));
      else w.reject(new ArchiveError(`corrupt lz4 stream: a block does not decode (${m.message})`, 'CORRUPT_LZ4'));
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the lz4 worker exited')));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  /** Decodes a size-prepended block held in `block` (an ArrayBuffer it takes over). */
  decode(block: ArrayBuffer, length: number): Promise<Buffer> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage({ block, length }, [block]);
    });
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
