// Running a conformance case on an emulated AWS stack: submit through the functions' engine, then
// wait until the job is final and its results are stored (the status function applies outcomes
// asynchronously). Shared by the suites whose workers differ (in-stack, container task).
import { randomBytes } from 'node:crypto';
import { isJobFinal, type JobState } from '../../shared/ports/job-state.ts';
import type { LocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { type ExecutionBackend, type JobControls, storePipeline } from './execution.ts';

async function waitFinal(get: () => Promise<JobState | undefined>, results: () => Promise<unknown>) {
  for (let i = 0; ; i++) {
    const s = await get();
    if (s && isJobFinal(s) && (await results()) !== undefined) return s;
    await new Promise((r) => setTimeout(r, i < 20 ? 25 : 100));
  }
}

/** Pause/resume through the functions' engine; the stack's worker and status function do the rest. */
export function awsControls(stack: LocalAwsStack): JobControls {
  const { engine } = stack;
  return {
    submit: async (pipeline) => (await engine.coordinator.submit(pipeline)).jobId,
    store: (pipeline) => storePipeline(engine.registry, pipeline),
    stop: async (jobId) => {
      await engine.coordinator.stop(jobId);
    },
    setPaused: async (jobId, paused) => {
      await engine.coordinator.setPaused(jobId, paused);
    },
    job: (jobId) => engine.jobs.getJob(jobId),
    async final(jobId) {
      const job = await waitFinal(
        () => engine.jobs.getJob(jobId),
        () => engine.jobs.getResults(jobId),
      );
      return {
        status: job.status,
        nodes: job.nodes.toJSON() as unknown as Record<string, Record<string, unknown>>,
        results: await engine.jobs.getResults(jobId),
        items: (node) => engine.tasks.nodeResults(jobId, node),
      };
    },
  };
}

export function awsExecution(stack: LocalAwsStack): ExecutionBackend['run'] {
  const { engine } = stack;
  return async (pipeline, flowInput, stored = []) => {
    for (const s of stored) await storePipeline(engine.registry, s);
    // Test built-ins count runs by key: a fresh suffix keeps cases independent across runs.
    const salt = randomBytes(4).toString('hex');
    const p = JSON.parse(JSON.stringify(pipeline).replaceAll('$RUN', salt));
    const submitted = await engine.coordinator.submit(p, flowInput ? { flowInput } : {});
    const job = await waitFinal(
      () => engine.jobs.getJob(submitted.jobId),
      () => engine.jobs.getResults(submitted.jobId),
    );
    return {
      status: job.status,
      ...(job.reason ? { reason: job.reason } : {}),
      nodes: job.nodes.toJSON() as unknown as Record<string, Record<string, unknown>>,
      results: await engine.jobs.getResults(job.jobId),
      items: (node) => engine.tasks.nodeResults(job.jobId, node),
    };
  };
}
