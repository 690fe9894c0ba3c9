// Cron triggers while `sluice serve` runs: every stored pipeline with an enabled
// `triggers.cron` is started on its 5- or 6-field pattern.
import { Cron } from 'croner';
import type { CronControl } from '../../api/service.ts';
import type { Coordinator } from '../../engine/coordinator.ts';
import { type CronTriggerView, listCronTriggers } from '../../engine/cron-triggers.ts';
import type { JobStore } from '../../ports/job-store.ts';

export class CronScheduler implements CronControl {
  private jobs = new Map<string, { cron: Cron; pattern: string }>();
  private stopped = false;

  constructor(
    private readonly store: JobStore,
    private readonly coordinator: Coordinator,
    private readonly onError: (message: string) => void = (m) => process.emitWarning(m),
  ) {}

  async refresh(): Promise<void> {
    if (this.stopped) return;
    const wanted = new Map<string, string>();
    for (const p of await this.store.listPipelines()) {
      const c = p.triggers?.cron;
      if (c?.enabled && c.pattern) wanted.set(p.name, c.pattern);
    }
    for (const [name, j] of this.jobs) {
      if (wanted.get(name) !== j.pattern) {
        j.cron.stop();
        this.jobs.delete(name);
      }
    }
    for (const [name, pattern] of wanted) {
      if (this.jobs.has(name)) continue;
      const cron = new Cron(pattern, { protect: true }, () => {
        void this.fire(name);
      });
      this.jobs.set(name, { cron, pattern });
    }
  }

  private async fire(name: string): Promise<void> {
    try {
      const p = await this.store.getPipeline(name);
      if (!p) return;
      await this.coordinator.submit(p, { origin: { kind: 'cron' } });
    } catch (err) {
      this.onError(`cron trigger of pipeline ${name} failed: ${(err as Error).message}`);
    }
  }

  async list(): Promise<CronTriggerView[]> {
    return listCronTriggers(await this.store.listPipelines(), (p) => this.jobs.get(p.name)?.cron.nextRun());
  }

  stop(): void {
    this.stopped = true;
    for (const j of this.jobs.values()) j.cron.stop();
    this.jobs.clear();
  }
}
