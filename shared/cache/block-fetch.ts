// One block on its way from the origin to the disk, and to every reader that wants it meanwhile:
// one origin request per block however many readers follow it. Received bytes are written to the
// block's temporary file (writes coalesce while one is in flight; the answer is paused when the
// backlog grows) and kept in memory for a short window behind the newest byte, so readers keeping
// up are served from memory and only readers that fell behind read the file. Memory stays
// bounded per fetch (backlog + window), whatever the block or object size.
import type { IncomingMessage } from 'node:http';
import { crc32, encodeHeader } from './block-file.ts';
import type { TempBlock } from './block-store.ts';
import { BLOCK_HEADER_BYTES, FOLLOW_WINDOW, WRITE_BACKLOG } from './constants.ts';
import { BlockStoreError, isDiskFull, OriginAnswerError, OriginUnreachableError } from './errors.ts';
import type { CacheStats } from './types.ts';

export class BlockFetch {
  /** Data bytes received (readable by followers, from memory or the file). */
  received = 0;
  /** Data bytes written to the file. */
  written = 0;
  /** Every byte is received, written, and the header too. */
  complete = false;
  /** Why the fetch ended early (bytes received before stay valid). */
  error: Error | undefined;
  private refs = 1;
  private waiters: (() => void)[] = [];
  private temp: TempBlock | undefined;
  /** Received chunks covering [memStart, received): the unwritten ones and a window behind. */
  private mem: Buffer[] = [];
  private memStart = 0;

  constructor(
    readonly key: string,
    readonly block: number,
    readonly length: number,
    private readonly origin: string,
    private readonly stats: CacheStats,
  ) {}

  /** Resolves once bytes past `pos` are received, or the fetch has ended. */
  waitFor(pos: number): Promise<void> {
    if (this.received > pos || this.complete || this.error) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  /** A reader starts following; release() when done. */
  acquire(): void {
    this.refs++;
  }

  release(): void {
    if (--this.refs > 0) return;
    this.mem = [];
    void this.temp?.fh.close().catch(() => {});
  }

  /**
   * Up to `max` received bytes from data offset `pos` (below `received`): chunks from memory as
   * they came (no copy), or one read of the file when `pos` fell behind the memory window.
   */
  async slice(pos: number, max: number): Promise<Buffer[]> {
    if (pos >= this.memStart) {
      const out: Buffer[] = [];
      let at = this.memStart;
      let want = Math.min(max, this.received - pos);
      for (const c of this.mem) {
        if (want <= 0) break;
        const end = at + c.length;
        if (end > pos) {
          const from = Math.max(0, pos - at);
          const part = c.subarray(from, Math.min(c.length, from + want));
          out.push(part);
          want -= part.length;
          pos += part.length;
        }
        at = end;
      }
      return out;
    }
    if (!this.temp) return [];
    const buf = Buffer.allocUnsafe(Math.min(max, this.memStart - pos));
    const { bytesRead } = await this.temp.fh.read(buf, 0, buf.length, BLOCK_HEADER_BYTES + pos);
    return bytesRead ? [buf.subarray(0, bytesRead)] : [];
  }

  /** The file the block is written to; closed once the fetch and its followers are done. */
  attach(temp: TempBlock): void {
    this.temp = temp;
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
    // Followers still behind read the (complete) file from now on.
    this.mem = [];
    this.memStart = this.length;
    this.wake();
  }

  /** Ends the fetch early; followers see `error` (and keep what was received). */
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

  /** Drops written chunks that are more than FOLLOW_WINDOW behind the newest byte. */
  private trim(): void {
    while (this.mem.length > 0) {
      const c = this.mem[0]!;
      const end = this.memStart + c.length;
      if (end > this.written || this.received - end < FOLLOW_WINDOW) break;
      this.mem.shift();
      this.memStart = end;
    }
  }

  private pump(res: IncomingMessage, temp: TempBlock): Promise<number> {
    return new Promise((resolve, reject) => {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
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
        if (this.received !== this.length)
          fail(
            new OriginAnswerError(this.origin, `sent ${this.received} of the block's ${this.length} bytes`),
          );
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
          this.trim();
        }
        writing = false;
        if (ended) finish();
      };
      res.on('data', (chunk: Buffer) => {
        this.stats.bytesFromOrigin += chunk.length;
        if (this.received + chunk.length > this.length) {
          fail(new OriginAnswerError(this.origin, `sent more than the block's ${this.length} bytes`));
          return;
        }
        crc = crc32(chunk, crc);
        this.mem.push(chunk);
        this.received += chunk.length;
        this.wake();
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
