// Small files of a fast destination go in batches to the writer thread (SmallFileWriter): four
// system calls per file on one thread beside the main one. A file is busy until its batch is
// written; one that turned out to exist comes back and takes the checked replace-or-refuse path.
import type { BlockRecycler } from '../block-recycler.ts';
import { FetchError } from '../errors.ts';
import type { Destination } from './destination.ts';
import type { TarEntry } from './parser.ts';
import { type BatchResult, type SmallFile, SmallFileWriter } from './small-file-writer.ts';

/** Files up to this size may be batched. */
export const BATCH_MAX_BYTES = SmallFileWriter.MAX_FILE;

/** A small file whose body is being collected before it is queued for the writer thread. */
export interface PendingSmallFile {
  rel: string;
  parts: string[];
  entry: TarEntry;
  pieces: Buffer[];
}

export interface BatchHooks {
  recycler?: BlockRecycler;
  onEntry?: () => void;
  /** True once the extraction failed: stop waiting for room. */
  failed(): boolean;
  /** Runs a job in the background; `rel` (if given) is busy until it ends. */
  track(rel: string | undefined, job: Promise<void>): void;
  /** Writes a file whose whole body is here through the concurrent writers' checked path. */
  writeWhole(file: SmallFile, body: Buffer, entryName: string): Promise<void>;
}

export class SmallFileBatches {
  private writer: SmallFileWriter | undefined;
  /** Per batch: the promise `inflight` holds for its files. */
  private readonly batchDone = new WeakMap<Promise<BatchResult>, Promise<void>>();

  constructor(
    private readonly d: Destination,
    private readonly hooks: BatchHooks,
  ) {}

  /** Queues a small file, whose whole body is here, for the writer thread. */
  async queue(f: PendingSmallFile): Promise<void> {
    let len = 0;
    for (const p of f.pieces) len += p.length;
    this.writer ??= new SmallFileWriter(this.d.atime);
    while (this.writer.saturated && !this.writer.fits(len) && !this.hooks.failed())
      await this.writer.oneDone();
    const mode = this.d.fileMode(f.entry.mode);
    let done: Promise<BatchResult>;
    try {
      done = this.writer.add(
        { rel: f.rel, path: this.d.abs(f.rel), mode, chmod: this.d.needsChmod(mode), mtime: f.entry.mtime },
        f.pieces,
      );
    } finally {
      // add() has copied the body into its arena.
      if (this.hooks.recycler) for (const p of f.pieces) this.hooks.recycler.drop(p.buffer);
    }
    let forBatch = this.batchDone.get(done);
    if (!forBatch) {
      forBatch = done.then(
        () => {},
        () => {},
      );
      this.batchDone.set(done, forBatch);
      this.hooks.track(undefined, this.settle(done, forBatch, f.entry.path));
    }
    this.d.inflight.set(f.rel, forBatch);
  }

  /** Sends the batch being filled (anyone about to wait for one of its files must call this). */
  flush(): void {
    this.writer?.flush();
  }

  close(): void {
    this.writer?.close();
  }

  /** Books a finished batch; a file that already existed goes through the replace-or-refuse path. */
  private async settle(
    done: Promise<BatchResult>,
    forBatch: Promise<void>,
    entryName: string,
  ): Promise<void> {
    const r = await done;
    this.d.noteCost(r.msPerFile, 'file');
    const failed = new Set(r.failures.map((x) => x.file));
    for (const f of r.files) {
      if (this.d.inflight.get(f.rel) === forBatch) this.d.inflight.delete(f.rel);
      if (failed.has(f)) continue;
      this.d.markCreated(f.rel);
      this.d.summary.files++;
      this.d.summary.bytes += f.len;
      this.hooks.onEntry?.();
    }
    for (const x of r.failures) {
      if (x.code !== 'EEXIST' && x.code !== 'ELOOP')
        throw new FetchError(
          `${x.file.path}: ${x.message}`,
          x.code === 'ENOSPC' ? 'NO_SPACE' : 'WRITE_FAILED',
          500,
        );
      this.hooks.track(x.file.rel, this.hooks.writeWhole(x.file, x.body, entryName));
    }
  }
}
