// Pipeline ttl (from submission) and activeTtl (from the first task starting): jobs past either
// are stopped with the reason. Run periodically on the engine's clock (embedded: every second;
// AWS: each dispatch tick).
import type { JobDriver } from './driver.ts';
import { expiredTtl } from './job-notices.ts';

export async function enforceTtls(d: JobDriver): Promise<number> {
  const now = d.ports.clock.now();
  let stopped = 0;
  for (const job of await d.ports.jobs.unfinishedJobs()) {
    const reason = expiredTtl(job, now);
    if (!reason) continue;
    await d.apply(job.jobId, { type: 'stop', reason, at: now });
    stopped++;
  }
  return stopped;
}
