// What follows a job's final status (its results are stored already): the result webhook, the
// `jobFinished` feed event, pipeline triggers (a completed job starts the pipelines listing it),
// and the jobs waiting for its concurrency slot. The coordinator marks a job "finishing" before it
// saves the final status and clears the mark after these steps; a process that dies in between
// leaves the mark, and the recovery sweep runs the steps again (finishPending). So every step is
// idempotent: the result webhook is sent once per job, a trigger's job has an id derived from its
// parent (created once), and admission re-reads what is waiting.
import { createHash } from 'node:crypto';
import { MAX_CHAIN_DEPTH } from '../pipeline/pipeline-cycles.ts';
import type { PipelineResult } from '../pipeline/types.ts';
import { isJobFinal, type JobState, type JobStatus } from '../ports/job-state.ts';
import { admitWaiting } from './admission.ts';
import type { JobDriver } from './driver.ts';
import { passesVerbosity, progressPayload, resultPayload } from './job-notices.ts';

export async function jobFinished(
  d: JobDriver,
  job: JobState,
  status: JobStatus,
  results: PipelineResult[],
): Promise<void> {
  const { notifier, clock, jobs } = d.ports;
  d.forget(job.jobId);
  const url = job.pipeline.webhooks.result;
  if (url && (await notifier.deliveries(job.jobId, 'result')).length === 0)
    await notifier.notify(job.jobId, 'result', url, resultPayload(job, status, results, clock.now()));
  d.feed.publish({ type: 'jobFinished', job });
  if (status === 'completed') await fireTriggers(d, job, results);
  await admitWaiting(d, job.pipeline.name);
  await jobs.clearFinishing(job.jobId);
}

/**
 * Runs the after-steps of finished jobs whose mark is older than `graceMs` (a live process may
 * still be running them); drops marks of jobs whose final status was never saved. Returns how
 * many jobs it finished.
 */
export async function finishPending(d: JobDriver, graceMs: number): Promise<number> {
  const { jobs, clock } = d.ports;
  const before = clock.now() - graceMs;
  let finished = 0;
  for (const { jobId, since } of await jobs.finishingJobs()) {
    if (since > before) continue;
    const job = await jobs.getJob(jobId);
    if (!job) await jobs.clearFinishing(jobId);
    else if (!isJobFinal(job))
      await jobs.clearFinishing(jobId); // re-marked when it does finish
    else {
      const results = ((await jobs.getResults(jobId)) ?? []) as PipelineResult[];
      await jobFinished(d, job, job.status, results);
      finished++;
    }
  }
  return finished;
}

/** The job a trigger starts for a parent job: the same id however often the step runs. */
export function triggeredJobId(pipelineName: string, parentJobId: string): string {
  const safe = pipelineName.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  const digest = createHash('sha256').update(`${pipelineName}\n${parentJobId}`).digest('hex');
  return `${safe}-t${digest.slice(0, 16)}`;
}

/**
 * How many triggers and pipeline nodes led to this job from one started otherwise (0: none). The
 * run-time guard against cycles of pipelines (pipeline-cycles.ts) ends a chain past MAX_CHAIN_DEPTH.
 */
export function chainDepthOf(job: JobState): number {
  const kind = job.origin?.kind;
  return kind === 'trigger' || kind === 'pipeline' ? (job.origin?.triggerDepth ?? 1) : 0;
}

/** Pipeline triggers: every stored pipeline listing this one runs with flowInput.parent. */
async function fireTriggers(d: JobDriver, job: JobState, results: PipelineResult[]): Promise<void> {
  const depth = chainDepthOf(job) + 1;
  for (const p of await d.ports.registry.listPipelines()) {
    if (!p.triggers?.pipelines?.includes(job.pipeline.name)) continue;
    if (depth > MAX_CHAIN_DEPTH) {
      // A cycle stored before cycles were refused, or two updates racing: end the chain here.
      await sendProgress(
        d,
        job,
        'error',
        `trigger of pipeline ${p.name} not fired: a chain of ${MAX_CHAIN_DEPTH} triggered jobs and sub-pipelines ends here (a cycle of pipelines?)`,
      );
      continue;
    }
    const jobId = triggeredJobId(p.name, job.jobId);
    try {
      const existing = await d.ports.jobs.getJob(jobId);
      if (existing) {
        // Created by an earlier run of this step; if that run died before admitting it, admit now.
        if (!existing.admitted) await admitWaiting(d, p.name);
        continue;
      }
      await d.submit(p, {
        jobId,
        flowInput: { ...p.flowInput, parent: results },
        origin: { kind: 'trigger', parentJobId: job.jobId, triggerDepth: depth },
      });
    } catch (err) {
      await sendProgress(d, job, 'error', `trigger of pipeline ${p.name} failed: ${(err as Error).message}`);
    }
  }
}

/** A progress webhook, if the pipeline has one and the level passes its verbosity. */
export async function sendProgress(
  d: JobDriver,
  job: JobState,
  level: string,
  message: string,
): Promise<void> {
  const url = job.pipeline.webhooks.progress;
  if (!url || !passesVerbosity(job, level)) return;
  await d.ports.notifier.notify(
    job.jobId,
    'progress',
    url,
    progressPayload(job, level, message, d.ports.clock.now()),
  );
}
