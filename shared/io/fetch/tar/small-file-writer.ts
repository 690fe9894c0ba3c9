// SmallFileWriter: writes small files on a worker thread (small-file-thread.ts), in batches, so
// the system calls (open, write, futimes, close: most of `tar x`'s time) run beside the main
// thread's download, parsing and decoding instead of on it. File bodies are copied into a shared
// arena (one memcpy; no transfer, no allocation per file); the main thread decided every path and
// checked its safety before a file is queued here. A file that cannot be created as new (EEXIST)
// comes back to the caller, which knows whether it may be replaced.
import fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { moduleBeside, startWorkerThread } from '../../worker-thread.ts';
import type { SmallFileBatch, SmallFileBatchDone, SmallFileWrite } from './small-file-thread.ts';

/** A file in a batch: where it goes (`rel` for the caller's books) and where its body sits. */
export interface SmallFile extends SmallFileWrite {
  rel: string;
}

export interface BatchResult {
  files: SmallFile[];
  /** Files that failed, with the arena still readable for a retry. */
  failures: { file: SmallFile; code: string | undefined; message: string; body: Buffer }[];
  /** Mean milliseconds per file on the worker (tells a fast local disk from a network volume). */
  msPerFile: number;
}

interface Batch {
  id: number;
  arena: SharedArrayBuffer;
  used: number;
  files: SmallFile[];
  done: Promise<BatchResult>;
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
  sent: boolean;
}

const ARENA = 4 * 1024 * 1024;
const MAX_FILES = 256;
/** Batches in flight: bounds the arenas' memory (4 x 4 MiB). */
const MAX_IN_FLIGHT = 4;

export class SmallFileWriter {
  private readonly worker: Worker;
  private readonly spare: SharedArrayBuffer[] = [];
  private readonly inFlight = new Map<number, Batch>();
  private current: Batch | undefined;
  private nextId = 0;
  private failed: Error | undefined;
  static readonly MAX_FILE = 256 * 1024;

  constructor(private readonly atime: number) {
    this.worker = startWorkerThread(moduleBeside('./small-file-thread', import.meta.url));
    this.worker.unref();
    this.worker.on('message', (m: SmallFileBatchDone) => {
      const b = this.inFlight.get(m.id);
      if (!b) return;
      this.inFlight.delete(m.id);
      const failures = m.failures.map((f) => {
        const file = b.files[f.i]!;
        return {
          file,
          code: f.code,
          message: f.message,
          body: Buffer.from(Buffer.from(b.arena, file.off, file.len)),
        };
      });
      if (this.spare.length < MAX_IN_FLIGHT) this.spare.push(b.arena);
      b.resolve({ files: b.files, failures, msPerFile: m.ms / Math.max(1, b.files.length) });
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('the file writer thread exited')));
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const b of this.inFlight.values()) b.reject(err);
    this.inFlight.clear();
  }

  private newBatch(): Batch {
    let resolve!: Batch['resolve'];
    let reject!: Batch['reject'];
    const done = new Promise<BatchResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {});
    return {
      id: this.nextId++,
      arena: this.spare.pop() ?? new SharedArrayBuffer(ARENA),
      used: 0,
      files: [],
      done,
      resolve,
      reject,
      sent: false,
    };
  }

  /** True when `len` more bytes fit the current batch without sending it. */
  fits(len: number): boolean {
    const b = this.current;
    return !b || (b.files.length < MAX_FILES && b.used + 7 + len <= ARENA);
  }

  /** Room for another batch? If not, wait for one to finish before adding. */
  get saturated(): boolean {
    return this.inFlight.size >= MAX_IN_FLIGHT;
  }

  /** Resolves when some batch in flight finishes. */
  async oneDone(): Promise<void> {
    const first = this.inFlight.values().next().value as Batch | undefined;
    if (first) await first.done.catch(() => {});
  }

  /** Queues a file (its body pieces are copied now); returns the batch's completion. */
  add(file: Omit<SmallFile, 'off' | 'len'>, pieces: Buffer[]): Promise<BatchResult> {
    if (this.failed) throw this.failed;
    let len = 0;
    for (const p of pieces) len += p.length;
    if (!this.fits(len)) this.flush();
    this.current ??= this.newBatch();
    const b = this.current;
    const arena = Buffer.from(b.arena);
    // The body starts where it lines up with its source modulo 8: copies into shared memory run
    // word by word only then (byte by byte otherwise, five times slower). Tar bodies start at
    // 512-byte boundaries of the stream, so the pieces after the first line up as well.
    const first = pieces[0];
    if (first) b.used += ((first.byteOffset & 7) - b.used) & 7;
    const off = b.used;
    for (const p of pieces) {
      p.copy(arena, b.used);
      b.used += p.length;
    }
    b.files.push({ ...file, off, len });
    return b.done;
  }

  /** Sends the batch being filled (anyone about to wait for one of its files must call this). */
  flush(): void {
    const b = this.current;
    if (!b || b.files.length === 0) return;
    this.current = undefined;
    b.sent = true;
    if (this.inFlight.size === 0) this.worker.ref();
    this.inFlight.set(b.id, b);
    const flags =
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
    const batch: SmallFileBatch = { id: b.id, arena: b.arena, flags, atime: this.atime, files: b.files };
    this.worker.postMessage(batch);
  }

  /** Sends what is queued and waits for every batch. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight.values()].map((b) => b.done));
  }

  close(): void {
    this.worker.removeAllListeners('exit');
    void this.worker.terminate();
  }
}
