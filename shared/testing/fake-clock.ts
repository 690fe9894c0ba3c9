// A Clock whose time moves only when a test says so: a one-hour ttl, aging or a cron pattern is
// tested in milliseconds. Timers fire in time order as the clock passes them, and the work each
// one starts (promises, I/O turns) gets to settle before the next fires.
import type { Clock, Timer } from '../ports/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
}

/** Event-loop turns given to the work a timer started before time moves on. */
const SETTLE_TURNS = 10;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private readonly timers = new Set<Pending>();

  /** Starts at `start` (ms since the epoch; default 2030-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2030, 0, 1)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const t: Pending = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.add(t);
    return { cancel: () => this.timers.delete(t) };
  }

  /** Timers not fired or cancelled yet. */
  get pending(): number {
    return this.timers.size;
  }

  /** Lets the work already started settle (a few event-loop turns) without moving time. */
  async settle(turns = SETTLE_TURNS): Promise<void> {
    for (let i = 0; i < turns; i++) await turn();
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first (at
   * its own time), and settling after each.
   */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await this.settle();
      let next: Pending | undefined;
      for (const t of this.timers) {
        if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      this.timers.delete(next);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    await this.settle();
  }
}
