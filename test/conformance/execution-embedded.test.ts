// The conformance execution cases on the embedded backend (SQLite, in-process built-ins).
import { randomBytes } from 'node:crypto';
import { openTestEngine } from '../helpers/engine.ts';
import { defineExecutionSuite, storePipeline } from './execution.ts';

defineExecutionSuite('the embedded engine', async () => {
  const t = await openTestEngine({ slots: 4 });
  return {
    async run(pipeline, flowInput, stored = []) {
      for (const s of stored) await storePipeline(t.engine.registry, s);
      // Test built-ins count runs by key: a fresh suffix keeps cases independent across runs.
      const salt = randomBytes(4).toString('hex');
      const p = JSON.parse(JSON.stringify(pipeline).replaceAll('$RUN', salt));
      const { job, results } = await t.run(p, flowInput ? { flowInput } : {});
      return {
        status: job.status,
        ...(job.reason ? { reason: job.reason } : {}),
        nodes: job.nodes.toJSON() as unknown as Record<string, Record<string, unknown>>,
        results,
        items: (node) => t.engine.tasks.nodeResults(job.jobId, node),
      };
    },
    controls: {
      submit: async (pipeline) => (await t.engine.coordinator.submit(pipeline)).jobId,
      store: (pipeline) => storePipeline(t.engine.registry, pipeline),
      stop: async (jobId) => {
        await t.engine.coordinator.stop(jobId);
      },
      setPaused: async (jobId, paused) => {
        await t.engine.coordinator.setPaused(jobId, paused);
      },
      job: (jobId) => t.engine.jobs.getJob(jobId),
      async final(jobId) {
        const job = await t.engine.waitForJob(jobId);
        return {
          status: job.status,
          nodes: job.nodes.toJSON() as unknown as Record<string, Record<string, unknown>>,
          results: await t.engine.jobs.getResults(jobId),
          items: (node) => t.engine.tasks.nodeResults(jobId, node),
        };
      },
    },
    close: () => t.close(),
  };
});
