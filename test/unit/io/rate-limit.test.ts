import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../shared/io/rate-limit.ts';

/** A clock that only moves when someone sleeps. */
function fakeClock() {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    get t() {
      return t;
    },
  };
}

describe('RateLimiter (--bwlimit, --limit-rate)', () => {
  it('holds the rate: 10 requests of 1 MB at 1 MB/s start over 9 s', async () => {
    const clock = fakeClock();
    const limit = new RateLimiter(1_000_000, clock);
    for (let i = 0; i < 10; i++) await limit.take(1_000_000);
    // The first megabyte goes at once; each later one waits until the one before has drained.
    expect(clock.t).toBe(9000);
  });

  it('does not save up idle time beyond one second', async () => {
    const clock = fakeClock();
    const limit = new RateLimiter(1000, clock);
    await clock.sleep(60_000);
    for (let i = 0; i < 5; i++) await limit.take(1000);
    expect(clock.t).toBe(60_000 + 4000);
  });

  it('paces a stream chunk by chunk', async () => {
    const clock = fakeClock();
    const limit = new RateLimiter(100, clock);
    const out: number[] = [];
    async function* src() {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(100, i);
    }
    for await (const c of limit.pace(src())) out.push(c[0]!);
    expect(out).toEqual([0, 1, 2, 3]);
    expect(clock.t).toBe(3000);
  });
});
