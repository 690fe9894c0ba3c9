// Cron triggers scheduled in this process: every stored pipeline with an enabled `triggers.cron`
// gets a timer on the engine's clock for its next run (croner computes it from the 5- or 6-field
// pattern, in the trigger's time zone when it names one). The embedded engine fires the cron trigger itself; the emulated AWS stack calls the
// cron function as an EventBridge schedule would. A run still going is not overlapped by the next.
import { Cron } from 'croner';
import type { CronControl } from '../api/service.ts';
import { type CronTriggerView, listCronTriggers } from '../engine/cron-triggers.ts';
import type { Clock, Timer } from '../ports/clock.ts';
import type { Registry } from '../ports/registry.ts';

/** Timers are re-armed at least this often (a yearly pattern is not one 365-day timer). */
const MAX_TIMER_MS = 24 * 3600_000;

interface Rule {
  pattern: string;
  timeZone?: string;
  cron: Cron;
  timer?: Timer;
  running: boolean;
}

export class CronTimers implements CronControl {
  private readonly rules = new Map<string, Rule>();
  private stopped = false;

  constructor(
    private readonly registry: Pick<Registry, 'listPipelines'>,
    private readonly clock: Clock,
    private readonly fire: (pipelineName: string) => Promise<unknown>,
    private readonly onError: (err: unknown) => void = (e) =>
      process.emitWarning(`cron: ${(e as Error)?.message ?? String(e)}`),
  ) {}

  /** Re-reads the stored pipelines and (re)schedules their cron triggers. */
  async refresh(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, { pattern: string; timeZone?: string }>();
    for (const p of await this.registry.listPipelines()) {
      const c = p.triggers?.cron;
      if (c?.enabled && c.pattern)
        wanted.set(p.name, { pattern: c.pattern, ...(c.timeZone ? { timeZone: c.timeZone } : {}) });
    }
    for (const [name, r] of this.rules) {
      const w = wanted.get(name);
      if (w?.pattern === r.pattern && w.timeZone === r.timeZone) continue;
      r.timer?.cancel();
      this.rules.delete(name);
    }
    for (const [name, { pattern, timeZone }] of wanted) {
      if (this.rules.has(name)) continue;
      const rule: Rule = {
        pattern,
        ...(timeZone ? { timeZone } : {}),
        cron: new Cron(pattern, { paused: true, ...(timeZone ? { timezone: timeZone } : {}) }),
        running: false,
      };
      this.rules.set(name, rule);
      this.arm(name, rule);
    }
  }

  private nextRun(rule: Rule): Date | null {
    return rule.cron.nextRun(new Date(this.clock.now()));
  }

  private arm(name: string, rule: Rule): void {
    const next = this.nextRun(rule);
    if (!next || this.stopped) return;
    const delay = Math.min(Math.max(0, next.getTime() - this.clock.now()), MAX_TIMER_MS);
    rule.timer = this.clock.setTimeout(() => {
      if (this.rules.get(name) !== rule) return; // rescheduled or removed meanwhile
      if (this.clock.now() < next.getTime()) return this.arm(name, rule); // a capped wait: not yet
      this.arm(name, rule);
      if (rule.running) return;
      rule.running = true;
      void this.fire(name)
        .catch(this.onError)
        .finally(() => {
          rule.running = false;
        });
    }, delay);
  }

  async list(): Promise<CronTriggerView[]> {
    return listCronTriggers(await this.registry.listPipelines(), (p) => {
      const r = this.rules.get(p.name);
      return r ? this.nextRun(r) : undefined;
    });
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.rules.values()) r.timer?.cancel();
    this.rules.clear();
  }
}
