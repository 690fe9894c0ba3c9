// What follows a job's final status (its results are stored already): the result webhook, the
// `jobFinished` feed event, pipeline triggers (a completed job starts the pipelines listing it),
// and the jobs waiting for its concurrency slot.
import { MAX_TRIGGER_DEPTH } from '../pipeline/trigger-cycles.ts';
import type { PipelineResult } from '../pipeline/types.ts';
import type { JobState, JobStatus } from '../ports/job-state.ts';
import { admitWaiting } from './admission.ts';
import type { JobDriver } from './driver.ts';
import { passesVerbosity, progressPayload, resultPayload } from './job-notices.ts';

export async function jobFinished(
  d: JobDriver,
  job: JobState,
  status: JobStatus,
  results: PipelineResult[],
): Promise<void> {
  const { notifier, clock } = d.ports;
  d.forget(job.jobId);
  const url = job.pipeline.webhooks.result;
  if (url) await notifier.notify(job.jobId, 'result', url, resultPayload(job, status, results, clock.now()));
  d.feed.publish({ type: 'jobFinished', job });
  if (status === 'completed') await fireTriggers(d, job, results);
  await admitWaiting(d, job.pipeline.name);
}

/** Pipeline triggers: every stored pipeline listing this one runs with flowInput.parent. */
async function fireTriggers(d: JobDriver, job: JobState, results: PipelineResult[]): Promise<void> {
  const depth = (job.origin?.kind === 'trigger' ? (job.origin.triggerDepth ?? 1) : 0) + 1;
  for (const p of await d.ports.registry.listPipelines()) {
    if (!p.triggers?.pipelines?.includes(job.pipeline.name)) continue;
    if (depth > MAX_TRIGGER_DEPTH) {
      // A cycle stored before cycles were refused, or two updates racing: end the chain here.
      await sendProgress(
        d,
        job,
        'error',
        `trigger of pipeline ${p.name} not fired: a chain of ${MAX_TRIGGER_DEPTH} triggered jobs ends here (a trigger cycle?)`,
      );
      continue;
    }
    try {
      await d.submit(p, {
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
