// Firing a pipeline's cron trigger, the same for every scheduler (the embedded engine's croner
// timers, EventBridge Scheduler schedules on AWS, their local emulation): the stored pipeline runs
// only if it still exists and its trigger is enabled (a schedule may outlive a change by a moment).
import type { JobDriver } from './driver.ts';

export type CronFiring = { jobId: string } | { skipped: string };

export async function fireCron(d: JobDriver, pipelineName: string): Promise<CronFiring> {
  const p = await d.ports.registry.getPipeline(pipelineName);
  if (!p?.triggers?.cron?.enabled) return { skipped: `pipeline ${pipelineName} has no enabled cron trigger` };
  const job = await d.submit(p, { origin: { kind: 'cron' } });
  return { jobId: job.jobId };
}
