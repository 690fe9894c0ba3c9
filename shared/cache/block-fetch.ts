// One block on its way from the origin to the disk. The origin's answer is written to the block's
// temporary file as it arrives (writes coalesce while one is in flight; the answer is paused when
// the backlog grows), and any number of readers follow the file as it grows, reading what is
// already written: one origin request per block however many readers want it, memory bounded.
import type { IncomingMessage } from 'node:http';
import { crc32, encodeHeader } from './block-file.ts';
import type { TempBlock } from './block-store.ts';
import { BLOCK_HEADER_BYTES, WRITE_BACKLOG } from './constants.ts';
import { BlockStoreError, isDiskFull, OriginAnswerError, OriginUnreachableError } from './errors.ts';
import type { CacheStats } from './types.ts';

export class BlockFetch {
  /** Data bytes written to the file (and so readable by followers). */
  written = 0;
  /** All `length` bytes are written. */
  complete = false;
  /** Why the fetch ended early (bytes already written stay valid). */
  error: Error | undefined;
  private refs = 1;
  private waiters: (() => void)[] = [];
  private temp: TempBlock | undefined;

  constructor(
    readonly key: string,
    readonly block: number,
    readonly length: number,
    private readonly origin: string,
    private readonly stats: CacheStats,
  ) {}

  /** Resolves once bytes past `pos` are written, or the fetch has ended. */
  waitFor(pos: number): Promise<void> {
    if (this.written > pos || this.complete || this.error) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** A reader starts following; release() when done. */
  acquire(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs === 0) void this.temp?.fh.close().catch(() => {});
  }

  /** Reads written bytes at data offset `pos` (only below `written`). */
  async read(buf: Buffer, length: number, pos: number): Promise<number> {
    if (!this.temp) return 0;
    return (await this.temp.fh.read(buf, 0, length, BLOCK_HEADER_BYTES + pos)).bytesRead;
  }

  /**
   * Writes the answer's body to `temp` and completes the file (header last). The caller checked the
   * answer's status and version; it renames the file into place afterwards.
   */
  async receive(res: IncomingMessage, temp: TempBlock): Promise<void> {
    this.temp = temp;
    const crc = await this.pump(res, temp);
    try {
      await temp.fh.write(
        encodeHeader({ crc, length: this.length, block: this.block }),
        0,
        BLOCK_HEADER_BYTES,
        0,
      );
    } catch (err) {
      throw diskError(temp.path, err);
    }
    this.complete = true;
    this.wake();
  }

  /** Ends the fetch early; followers see `error` (and keep what was written). */
  fail(err: Error): void {
    if (this.complete || this.error) return;
    this.error = err;
    this.wake();
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private pump(res: IncomingMessage, temp: TempBlock): Promise<number> {
    return new Promise((resolve, reject) => {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      let received = 0;
      let crc = 0;
      let writing = false;
      let ended = false;
      let failed = false;
      const fail = (err: Error) => {
        if (failed) return;
        failed = true;
        res.destroy();
        reject(err);
      };
      const finish = () => {
        if (failed) return;
        if (received !== this.length)
          fail(new OriginAnswerError(this.origin, `sent ${received} of the block's ${this.length} bytes`));
        else resolve(crc);
      };
      const flush = async () => {
        writing = true;
        while (pending.length > 0 && !failed) {
          const bufs = pending;
          const n = pendingBytes;
          pending = [];
          pendingBytes = 0;
          if (res.isPaused()) res.resume();
          try {
            const { bytesWritten } = await temp.fh.writev(bufs, BLOCK_HEADER_BYTES + this.written);
            if (bytesWritten !== n) throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
          } catch (err) {
            fail(diskError(temp.path, err));
            return;
          }
          this.written += n;
          this.wake();
        }
        writing = false;
        if (ended) finish();
      };
      res.on('data', (chunk: Buffer) => {
        received += chunk.length;
        this.stats.bytesFromOrigin += chunk.length;
        if (received > this.length) {
          fail(new OriginAnswerError(this.origin, `sent more than the block's ${this.length} bytes`));
          return;
        }
        crc = crc32(chunk, crc);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BACKLOG) res.pause();
        if (!writing) void flush();
      });
      res.on('end', () => {
        ended = true;
        if (!writing) finish();
      });
      res.on('error', (err) => fail(new OriginUnreachableError(this.origin, err)));
      res.on('close', () => {
        if (!ended) fail(new OriginUnreachableError(this.origin, new Error('connection closed mid-block')));
      });
    });
  }
}

function diskError(path: string, err: unknown): BlockStoreError {
  const e = err as NodeJS.ErrnoException;
  return new BlockStoreError(`cannot write ${path}: ${e?.code ?? e?.message}`, isDiskFull(err), err);
}
