// Cron triggers on the engine's clock: with a FakeClock, a once-a-minute pattern fires on each
// minute boundary without waiting minutes, a disabled or removed trigger stops firing, and a run
// still going is not overlapped by the next.
import { describe, expect, it } from 'vitest';
import type { Pipeline } from '../../../shared/pipeline/types.ts';
import { CronTimers } from '../../../shared/runtime/cron-timers.ts';
import { FakeClock } from '../../../shared/testing/fake-clock.ts';

const pipeline = (name: string, pattern: string, enabled = true, timeZone?: string) =>
  ({
    name,
    triggers: { cron: { pattern, enabled, ...(timeZone ? { timeZone } : {}) } },
  }) as unknown as Pipeline;

describe('CronTimers', () => {
  it('fires on every boundary of the pattern as the clock passes it; refresh follows the store', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 30));
    let stored = [pipeline('minutely', '* * * * *')];
    const fired: [string, string][] = [];
    const timers = new CronTimers({ listPipelines: async () => stored }, clock, async (name) => {
      fired.push([name, new Date(clock.now()).toISOString()]);
    });
    await timers.refresh();
    expect(await timers.list()).toEqual([
      { name: 'minutely', pattern: '* * * * *', enabled: true, nextRun: '2030-01-01T00:01:00.000Z' },
    ]);
    await clock.advance(140_000);
    expect(fired).toEqual([
      ['minutely', '2030-01-01T00:01:00.000Z'],
      ['minutely', '2030-01-01T00:02:00.000Z'],
    ]);
    stored = [pipeline('minutely', '* * * * *', false)];
    await timers.refresh();
    await clock.advance(120_000);
    expect(fired).toHaveLength(2);
    timers.stop();
  });

  it("reads a trigger's pattern in its time zone", async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const fired: string[] = [];
    const timers = new CronTimers(
      { listPipelines: async () => [pipeline('tokyo', '0 3 * * *', true, 'Asia/Tokyo')] },
      clock,
      async () => {
        fired.push(new Date(clock.now()).toISOString());
      },
    );
    await timers.refresh();
    // 03:00 in Tokyo (UTC+9) is 18:00 UTC the day before.
    expect((await timers.list())[0]).toMatchObject({
      timeZone: 'Asia/Tokyo',
      nextRun: '2030-01-01T18:00:00.000Z',
    });
    await clock.advance(19 * 3600_000);
    expect(fired).toEqual(['2030-01-01T18:00:00.000Z']);
    timers.stop();
  });

  it('does not overlap a run that is still going', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    let runs = 0;
    let release: () => void = () => {};
    const timers = new CronTimers(
      { listPipelines: async () => [pipeline('slow', '* * * * * *')] },
      clock,
      () => {
        runs++;
        return new Promise<void>((r) => {
          release = r;
        });
      },
    );
    await timers.refresh();
    await clock.advance(3_000);
    expect(runs).toBe(1);
    release();
    await clock.advance(1_000);
    expect(runs).toBe(2);
    timers.stop();
    expect(clock.pending).toBe(0);
  });
});
