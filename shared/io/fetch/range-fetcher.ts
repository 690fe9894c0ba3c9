// RangeFetcher: downloads a ByteSource as fixed-size chunks over several concurrent requests and
// yields the bytes IN ORDER as one stream. Memory stays bounded: a chunk is only started while the
// bytes held ahead of the consumer fit in `maxBuffered`, so a slow consumer back-pressures the
// downloads. A failed or stalled request is retried from the last byte received.
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { FetchError, HttpStatusError, TransferError } from './errors.ts';
import type { ByteSource, SourceInfo } from './source.ts';

export interface RangeFetcherOptions {
  /** Requests in flight. */
  workers: number;
  /** Bytes per ranged request. */
  chunkSize: number;
  /** Bytes downloaded ahead of the consumer, at most (plus one chunk). */
  maxBuffered: number;
  /** A request slower than this (bytes/s) over `stallMs` is restarted. 0 = never. */
  minSpeed: number;
  stallMs: number;
  /**
   * The whole download slower than `minSpeed` over this many ms (counting only time spent waiting
   * on the network) fails: a trickling server cannot keep it busy for ever. 0 = never.
   */
  overallStallMs?: number;
  /** A request with no response headers, or no body bytes, for this long is retried. 0 = never. */
  timeoutMs?: number;
  /** Attempts per chunk that make no progress before the download fails. */
  retries: number;
  /** First back-off delay; doubles per attempt (capped at 10 s), or the server's Retry-After. */
  backoffMs: number;
  signal?: AbortSignal;
  /** Called with every received buffer's length (progress). */
  onBytes?: (n: number) => void;
  log?: (line: string) => void;
}

export interface FetchStats {
  requests: number;
  retries: number;
  chunks: number;
  /** False when the source could not serve ranges and one stream was used. */
  parallel: boolean;
}

interface Chunk {
  start: number;
  /** Inclusive; Infinity when the size is unknown. */
  end: number;
  pieces: Buffer[];
  received: number;
  done: boolean;
}

export class RangeFetcher implements AsyncIterable<Buffer> {
  readonly stats: FetchStats;
  private readonly abort = new AbortController();
  private fatal: Error | undefined;
  /** Bytes received by every request so far (the overall speed rule reads it). */
  private received = 0;
  private waiter: (() => void) | undefined;

  constructor(
    private readonly source: ByteSource,
    private readonly info: SourceInfo,
    private readonly opts: RangeFetcherOptions,
  ) {
    this.stats = { requests: 0, retries: 0, chunks: 0, parallel: info.ranges };
    setMaxListeners(0, this.abort.signal); // one listener per request in flight
    opts.signal?.addEventListener('abort', () => this.fail(opts.signal?.reason ?? new Error('aborted')), {
      once: true,
    });
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private fail(err: Error): void {
    if (!this.fatal) this.fatal = err;
    this.abort.abort(err);
    this.wake();
  }

  /**
   * How many chunks there are; each is made only when it is launched (`chunkAt`), so a server
   * claiming a petabyte costs nothing more than one of a few megabytes: what is held at any time
   * is bounded by the read-ahead (`maxBuffered`), not by the size.
   */
  private chunkCount(): number {
    const { size, ranges } = this.info;
    if (size === 0) return 0;
    if (!ranges || size === undefined) return 1;
    return Math.ceil(size / this.opts.chunkSize);
  }

  private chunkAt(i: number): Chunk {
    const { size, ranges } = this.info;
    if (!ranges || size === undefined) {
      const end = size === undefined ? Number.POSITIVE_INFINITY : size - 1;
      return { start: 0, end, pieces: [], received: 0, done: false };
    }
    const start = i * this.opts.chunkSize;
    return {
      start,
      end: Math.min(start + this.opts.chunkSize, size) - 1,
      pieces: [],
      received: 0,
      done: false,
    };
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    const count = this.chunkCount();
    this.stats.chunks = count;
    /** The chunks launched and not yet consumed, by index (at most the read-ahead's worth). */
    const live = new Map<number, Chunk>();
    let next = 0;
    let active = 0;
    let head = 0;
    const watch = this.watchOverallSpeed(() => active > 0);
    const launch = () => {
      while (
        !this.fatal &&
        next < count &&
        active < this.opts.workers &&
        (next === head || (next - head + 1) * this.opts.chunkSize <= this.opts.maxBuffered)
      ) {
        const c = this.chunkAt(next);
        live.set(next++, c);
        active++;
        void this.download(c).finally(() => {
          active--;
          launch();
          this.wake();
        });
      }
    };
    try {
      for (head = 0; head < count; head++) {
        launch();
        const c = live.get(head);
        if (!c) throw this.fatal ?? new Error(`chunk ${head} was never started`);
        for (;;) {
          if (this.fatal) throw this.fatal;
          if (c.pieces.length) {
            const pieces = c.pieces;
            c.pieces = [];
            for (const p of pieces) yield p;
            continue;
          }
          if (c.done) break;
          await new Promise<void>((r) => {
            this.waiter = r;
          });
        }
        live.delete(head); // let the chunk's buffers go
      }
    } finally {
      if (watch) clearInterval(watch);
      if (!this.abort.signal.aborted) this.abort.abort(new Error('download no longer needed'));
    }
  }

  /**
   * curl's --speed-limit/--speed-time for the whole download: once a second, the bytes of the last
   * `overallStallMs` of network time (seconds with a request in flight; a consumer that
   * back-pressures stops the clock) must reach minSpeed x that window, or the download fails.
   */
  private watchOverallSpeed(busy: () => boolean): NodeJS.Timeout | undefined {
    const { minSpeed, overallStallMs = 0 } = this.opts;
    if (minSpeed <= 0 || overallStallMs <= 0) return undefined;
    const windowTicks = Math.max(1, Math.round(overallStallMs / 1000));
    const perTick: number[] = [];
    let last = this.received;
    const timer = setInterval(() => {
      const got = this.received - last;
      last = this.received;
      if (!busy() && got === 0) return;
      perTick.push(got);
      if (perTick.length > windowTicks) perTick.shift();
      if (perTick.length < windowTicks) return;
      const total = perTick.reduce((a, b) => a + b, 0);
      if (total < minSpeed * windowTicks)
        this.fail(
          new FetchError(
            `${this.source.name}: slower than ${minSpeed} bytes/s for ${windowTicks} s (${Math.round(total / windowTicks)} bytes/s; see --speed-limit and --speed-time)`,
            'TOO_SLOW',
            504,
          ),
        );
    }, 1000);
    timer.unref();
    return timer;
  }

  /** Fetches one chunk, retrying from the last received byte, until done or fatal. */
  private async download(c: Chunk): Promise<void> {
    let failures = 0;
    const resumable = this.info.ranges;
    while (!this.fatal) {
      const before = c.received;
      try {
        await this.attempt(c);
        return;
      } catch (err) {
        if (this.fatal) return;
        const e = err as Error;
        const retryable = (e as { retryable?: boolean }).retryable === true;
        const progressed = c.received > before;
        if (progressed) failures = 0;
        if (!retryable || ++failures > this.opts.retries || (!resumable && c.received > 0)) {
          const final =
            retryable && !resumable && c.received > 0
              ? new FetchError(
                  `${e.message}; the server does not support ranges, so the download cannot resume`,
                  'TRANSFER_ERROR',
                )
              : retryable && failures > this.opts.retries
                ? new FetchError(
                    `${e.message} (gave up after ${this.opts.retries} retries)`,
                    'TRANSFER_ERROR',
                    502,
                    {
                      cause: e,
                    },
                  )
                : e;
          this.fail(final);
          return;
        }
        this.stats.retries++;
        const wait =
          e instanceof HttpStatusError && e.retryAfter !== undefined
            ? Math.min(e.retryAfter * 1000, 30_000)
            : Math.min(this.opts.backoffMs * 2 ** (failures - 1), 10_000) * (0.75 + Math.random() / 2);
        this.opts.log?.(
          `retrying bytes ${c.start + c.received}-${c.end} in ${Math.round(wait)} ms: ${e.message}`,
        );
        try {
          await sleep(wait, undefined, { signal: this.abort.signal });
        } catch {
          return;
        }
      }
    }
  }

  /** One request for the rest of a chunk; resolves when the chunk is complete. */
  private attempt(c: Chunk): Promise<void> {
    const from = c.start + c.received;
    const sized = Number.isFinite(c.end);
    const ac = new AbortController();
    const onAbort = () => ac.abort(this.abort.signal.reason);
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    this.stats.requests++;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      let windowBytes = 0;
      const { minSpeed, stallMs } = this.opts;
      const timer =
        minSpeed > 0 && stallMs > 0
          ? setInterval(() => {
              if (windowBytes < (minSpeed * stallMs) / 1000) {
                const rate = Math.round((windowBytes * 1000) / stallMs);
                finish(
                  new TransferError(
                    `${this.source.name}: stalled at ${rate} B/s (below --speed-limit), reconnecting`,
                  ),
                );
                ac.abort();
              }
              windowBytes = 0;
            }, stallMs)
          : undefined;
      // No response headers, or a silent body, for timeoutMs: give up on this request (retried).
      let idle: NodeJS.Timeout | undefined;
      const { timeoutMs = 0 } = this.opts;
      const armIdle = () => {
        if (timeoutMs <= 0) return;
        if (idle) idle.refresh();
        else
          idle = setTimeout(() => {
            finish(
              new TransferError(
                `${this.source.name}: no data for ${timeoutMs / 1000} s (--timeout), reconnecting`,
              ),
            );
            ac.abort();
          }, timeoutMs);
      };
      armIdle();
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (timer) clearInterval(timer);
        if (idle) clearTimeout(idle);
        this.abort.signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve();
      };
      const range = this.info.ranges ? { start: from, end: c.end } : undefined;
      this.source.open(range, this.info, ac.signal).then((body) => {
        if (settled) {
          body.destroy();
          return;
        }
        body.on('data', (buf: Buffer) => {
          if (settled) return;
          let b = buf;
          if (sized && c.received + b.length > c.end - c.start + 1) {
            b = b.subarray(0, c.end - c.start + 1 - c.received); // a server sending more than asked
          }
          c.received += b.length;
          this.received += b.length;
          windowBytes += b.length;
          armIdle();
          c.pieces.push(b);
          this.opts.onBytes?.(b.length);
          this.wake();
        });
        body.on('error', (err) => {
          body.destroy();
          // A body shorter than its Content-Length ends as an 'aborted' error: say what happened.
          const short = sized && c.start + c.received <= c.end;
          finish(
            short && (!(err instanceof FetchError) || err instanceof TransferError)
              ? new TransferError(
                  `${this.source.name}: connection closed after ${c.received} of ${c.end - c.start + 1} bytes`,
                  { cause: err },
                )
              : err instanceof FetchError
                ? err
                : new TransferError(`${this.source.name}: ${err.message}`, { cause: err }),
          );
        });
        body.on('end', () => {
          if (sized && c.start + c.received <= c.end) {
            finish(
              new TransferError(
                `${this.source.name}: connection closed after ${c.received} of ${c.end - c.start + 1} bytes`,
              ),
            );
            return;
          }
          c.done = true;
          finish();
          this.wake();
        });
        body.on('close', () => {
          if (!settled) finish(new TransferError(`${this.source.name}: connection closed early`));
        });
      }, finish);
    });
  }
}
