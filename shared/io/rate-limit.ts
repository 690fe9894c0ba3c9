// --bwlimit / --limit-rate: bytes per second across everything one command moves. A transfer asks
// for its bytes before it moves them and waits until the bytes granted before have drained at the
// rate: by any time T at most rate*T bytes plus one request (one file or one chunk) have moved, and
// idle time is not saved up for a burst later.
import { setTimeout as sleep } from 'node:timers/promises';

export interface RateClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

const realClock: RateClock = {
  now: () => performance.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};

export class RateLimiter {
  /**
   * The piece a limited transfer moves at a time: a quarter of a second's worth (64 KiB to
   * 8 MiB), so that one file is paced too, not sent in one burst.
   */
  get chunkSize(): number {
    return Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.bytesPerSecond / 4)));
  }

  /** When the bytes granted so far will have drained at the limit (ms, clock time). */
  private cursor: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: RateClock = realClock,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('bytesPerSecond must be positive');
    this.cursor = clock.now();
  }

  /** Waits until `bytes` more may be moved without exceeding the rate. */
  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (bytes <= 0) return;
    const now = this.clock.now();
    const start = Math.max(this.cursor, now);
    this.cursor = start + (bytes / this.bytesPerSecond) * 1000;
    const wait = start - now;
    if (wait > 0) await this.clock.sleep(wait, signal);
  }

  /** `source` passed through at the rate (chunks are handed on once their bytes are allowed). */
  async *pace(source: AsyncIterable<Buffer>, signal?: AbortSignal): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      await this.take(chunk.length, signal);
      yield chunk;
    }
  }
}
