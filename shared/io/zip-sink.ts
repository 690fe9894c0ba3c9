// Where a zip's bytes go, strictly in order: a local file (written under a temp name, renamed
// when complete) or a stream feeding an S3 multipart upload.
import { PassThrough } from 'node:stream';
import type { ObjectStore } from '../ports/object-store.ts';
import { CHUNK_SIZE } from './constants.ts';
import { tempNameFor } from './copy-local.ts';
import { cannotWrite, errno } from './errors.ts';
import { type LocalFile, type LocalFs, threadedFs } from './local-fs.ts';

export interface ZipSink {
  write(chunks: Buffer[]): Promise<void>;
  /** Everything was written: make the result visible. */
  commit(): Promise<void>;
  /** Something failed: leave nothing behind. */
  abort(): Promise<void>;
  /** Paths the inputs must not include (the zip being written). */
  readonly ownPaths: string[];
}

export class LocalZipSink implements ZipSink {
  private constructor(
    private fh: LocalFile,
    private readonly tmp: string,
    private readonly path: string,
    private readonly fs: LocalFs,
  ) {}

  get ownPaths(): string[] {
    return [this.tmp, this.path];
  }

  /** Fails up front, naming `path`, when the zip cannot land there (a directory, no parent). */
  static async create(path: string, fs: LocalFs = threadedFs): Promise<LocalZipSink> {
    const existing = await fs.stat(path).catch(() => undefined);
    if (existing?.isDirectory()) throw cannotWrite(path, errno('EISDIR'));
    const tmp = tempNameFor(path);
    const fh = await fs.open(tmp, 'wx', 0o666).catch((err: unknown) => {
      throw cannotWrite(path, err);
    });
    return new LocalZipSink(fh, tmp, path, fs);
  }

  async write(chunks: Buffer[]): Promise<void> {
    // Appends (no position): one writev per entry keeps syscalls few.
    let rest = chunks;
    while (rest.length > 0) {
      const { bytesWritten } = await this.fh.writev(rest);
      let n = bytesWritten;
      const next: Buffer[] = [];
      for (const c of rest) {
        if (n >= c.length) n -= c.length;
        else {
          next.push(n > 0 ? c.subarray(n) : c);
          n = 0;
        }
      }
      rest = next;
    }
  }

  async commit(): Promise<void> {
    await this.fh.close();
    await this.fs.rename(this.tmp, this.path).catch((err: unknown) => {
      throw cannotWrite(this.path, err);
    });
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await this.fs.unlink(this.tmp).catch(() => {});
  }
}

/** Streams into a multipart upload; S3 shows the object only when the upload completes. */
export class S3ZipSink implements ZipSink {
  readonly ownPaths: string[] = [];
  private readonly stream = new PassThrough({ highWaterMark: CHUNK_SIZE });
  private readonly done: Promise<void>;
  private readonly aborter = new AbortController();

  constructor(store: ObjectStore, bucket: string, key: string) {
    this.done = store.put(bucket, key, this.stream, {
      partSize: CHUNK_SIZE,
      partConcurrency: 4,
      contentType: 'application/zip',
      signal: this.aborter.signal,
    });
    // Reported by commit(); avoid an unhandled rejection while writing.
    this.done.catch(() => {});
  }

  async write(chunks: Buffer[]): Promise<void> {
    for (const c of chunks) {
      if (!this.stream.write(c)) {
        await new Promise<void>((resolve, reject) => {
          const onDrain = () => {
            this.stream.off('error', onError);
            resolve();
          };
          const onError = (err: Error) => {
            this.stream.off('drain', onDrain);
            reject(err);
          };
          this.stream.once('drain', onDrain);
          this.stream.once('error', onError);
          // The upload failed and stopped reading: fail fast instead of waiting for a drain.
          this.done.catch(reject);
        });
      }
    }
  }

  async commit(): Promise<void> {
    this.stream.end();
    await this.done;
  }

  async abort(): Promise<void> {
    this.aborter.abort();
    this.stream.destroy();
    await this.done.catch(() => {});
  }
}
