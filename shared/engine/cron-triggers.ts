// The cron triggers of stored pipelines as the API lists them; each backend says when a
// trigger runs next (its own scheduler, or the pattern alone).
import type { Pipeline } from '../pipeline/types.ts';

export interface CronTriggerView {
  name: string;
  pattern: string;
  enabled: boolean;
  timeZone?: string;
  nextRun?: string;
}

export function listCronTriggers(
  pipelines: Pipeline[],
  nextRun: (p: Pipeline, pattern: string, enabled: boolean) => Date | null | undefined,
): CronTriggerView[] {
  const out: CronTriggerView[] = [];
  for (const p of pipelines) {
    const c = p.triggers?.cron;
    if (!c?.pattern) continue;
    const next = nextRun(p, c.pattern, c.enabled);
    out.push({
      name: p.name,
      pattern: c.pattern,
      enabled: c.enabled,
      ...(c.timeZone ? { timeZone: c.timeZone } : {}),
      ...(next ? { nextRun: next.toISOString() } : {}),
    });
  }
  return out;
}
