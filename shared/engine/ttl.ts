// Pipeline ttl (from submission) and activeTtl (from the first task starting): jobs past either
// are stopped with the reason. Run periodically on the engine's clock (embedded: every second;
// AWS: each dispatch tick). A job's deadlines never move once known (createdAt and the pipeline
// are fixed, startedAt is set once), so a job is read again only when its deadline has come:
// a tick costs a listing of the unfinished jobs, not a read of each (on AWS, every second).
import { isJobFinal, type JobState } from '../ports/job-state.ts';
import type { JobDriver } from './driver.ts';
import { expiredTtl } from './job-notices.ts';

/** Jobs listed per status in one tick (a listing of summaries, not of job records). */
const MAX_UNFINISHED = 100_000;

/** Per engine: jobId → the earliest time its ttl or activeTtl can expire. */
const deadlines = new WeakMap<JobDriver, Map<string, number>>();

/** When the job can expire at the earliest; undefined while that is not known (not started). */
export function ttlDeadline(job: JobState): number | undefined {
  const { ttl, activeTtl } = job.pipeline.options;
  if (activeTtl && job.startedAt === undefined) return undefined;
  const at = [
    ttl ? job.createdAt + ttl * 1000 : Number.POSITIVE_INFINITY,
    activeTtl && job.startedAt !== undefined ? job.startedAt + activeTtl * 1000 : Number.POSITIVE_INFINITY,
  ];
  return Math.min(...at);
}

export async function enforceTtls(d: JobDriver): Promise<number> {
  const now = d.ports.clock.now();
  const known = deadlines.get(d) ?? new Map<string, number>();
  deadlines.set(d, known);
  const ids: string[] = [];
  for (const status of ['pending', 'active'] as const)
    for (const s of await d.ports.jobs.listJobs({ status, limit: MAX_UNFINISHED })) ids.push(s.jobId);
  const unfinished = new Set(ids);
  for (const id of known.keys()) if (!unfinished.has(id)) known.delete(id);
  const expired = new Map<string, { job: JobState; reason: string }>();
  for (const jobId of ids) {
    const due = known.get(jobId);
    if (due !== undefined && now < due) continue;
    const job = await d.ports.jobReads.getJob(jobId);
    if (!job || isJobFinal(job)) continue;
    const reason = expiredTtl(job, now);
    if (!reason) {
      const next = ttlDeadline(job);
      if (next === undefined) known.delete(jobId);
      else known.set(jobId, next);
      continue;
    }
    known.delete(jobId);
    expired.set(jobId, { job, reason });
  }
  // Parents before their children: a child gets no more than its parent's remaining ttl, so both
  // often expire in the same tick. Stopped first, the child would end the parent's waiting task
  // as a failure ("sub-pipeline stopped") before the parent's own stop is recorded.
  const depth = (job: JobState): number => {
    const parent = job.origin?.parentJobId ? expired.get(job.origin.parentJobId) : undefined;
    return parent && parent.job !== job ? 1 + depth(parent.job) : 0;
  };
  const order = [...expired.values()].sort((a, b) => depth(a.job) - depth(b.job));
  for (const { job, reason } of order) await d.apply(job.jobId, { type: 'stop', reason, at: now });
  return order.length;
}
