// concurrentPipelines: whether a new job of a pipeline starts now, waits (pending, not admitted)
// or is refused, and which waiting jobs start when one finishes. Slots are counted with one query
// (admitted, unfinished jobs of the pipeline), never by reading jobs one by one.
import { ConflictError } from '../errors.ts';
import type { Pipeline } from '../pipeline/types.ts';
import type { JobStore } from '../ports/jobs.ts';
import type { JobDriver } from './driver.ts';

/** Waiting jobs looked at per admission round (the oldest first). */
const WAITING_SCAN = 1000;

/** True if a new job of `pipeline` may start now; throws when it must be refused. */
export async function admitsNewJob(jobs: JobStore, pipeline: Pipeline): Promise<boolean> {
  const cp = pipeline.options.concurrentPipelines;
  if (!cp) return true;
  const running = await jobs.countActiveJobs(pipeline.name);
  const queued = (
    await jobs.listJobs({ status: 'pending', pipelineName: pipeline.name, limit: WAITING_SCAN })
  ).length;
  if (running + queued < cp.amount) return true;
  if (cp.rejectOnFailure) {
    throw new ConflictError(
      `pipeline "${pipeline.name}" already has ${running + queued} jobs running, the maximum of concurrentPipelines.amount (${cp.amount}); retry later or set rejectOnFailure: false to queue`,
      'CONCURRENCY_LIMIT',
    );
  }
  return false;
}

/** A job of this pipeline finished: start the oldest ones waiting for a concurrency slot. */
export async function admitWaiting(d: JobDriver, pipelineName: string): Promise<void> {
  const { jobs, clock } = d.ports;
  const waiting = (await jobs.listJobs({ status: 'pending', pipelineName, limit: WAITING_SCAN })).reverse();
  let held: number | undefined;
  for (const w of waiting) {
    const job = await jobs.getJob(w.jobId);
    if (!job || job.admitted) continue;
    const cp = job.pipeline.options.concurrentPipelines;
    if (cp) {
      held ??= await jobs.countAdmittedUnfinished(pipelineName);
      if (held >= cp.amount) break;
      held++;
    }
    await d.apply(job.jobId, { type: 'submitted', at: clock.now() });
  }
}
