// Firing a pipeline's cron trigger, the same for every scheduler (the embedded engine's croner
// timers, EventBridge Scheduler schedules on AWS, their local emulation): the stored pipeline runs
// only if it still exists and its trigger is enabled (a schedule may outlive a change by a moment).
// A scheduler that delivers at least once (Scheduler's retries, Lambda's) names the firing by its
// scheduled time: the job id derives from it, so a repeated delivery finds its job, starts nothing.
import { createHash } from 'node:crypto';
import { ConflictError } from '../errors.ts';
import type { JobDriver } from './driver.ts';

export type CronFiring = { jobId: string; duplicate?: true } | { skipped: string };

/** The job id of one firing: pipeline name (cleaned) + a digest of name and scheduled time. */
export function cronJobId(pipelineName: string, scheduledTime: string): string {
  const digest = createHash('sha256').update(`${pipelineName}\n${scheduledTime}`).digest('hex');
  return `${pipelineName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}-c${digest.slice(0, 16)}`;
}

export async function fireCron(
  d: JobDriver,
  pipelineName: string,
  firing: { scheduledTime?: string } = {},
): Promise<CronFiring> {
  const p = await d.ports.registry.getPipeline(pipelineName);
  if (!p?.triggers?.cron?.enabled) return { skipped: `pipeline ${pipelineName} has no enabled cron trigger` };
  const jobId = firing.scheduledTime ? cronJobId(pipelineName, firing.scheduledTime) : undefined;
  if (jobId && (await d.ports.jobs.getJob(jobId))) return { jobId, duplicate: true };
  try {
    const job = await d.submit(p, { origin: { kind: 'cron' }, ...(jobId ? { jobId } : {}) });
    return { jobId: job.jobId };
  } catch (err) {
    // Two deliveries of one firing at once: the second finds the first's job.
    if (jobId && err instanceof ConflictError && (await d.ports.jobs.getJob(jobId)))
      return { jobId, duplicate: true };
    throw err;
  }
}
