// The conformance execution cases on the AWS adapters: DynamoDB state, SQS priority queues, S3
// blobs, the status function fed by an SQS poller, and a worker — against the emulators started
// here (or LocalStack / an account with SLUICE_TEST_AWS=1, see README "AWS backend").
import { randomBytes } from 'node:crypto';
import { allBuiltins } from '../../shared/builtins/registry.ts';
import { isJobFinal } from '../../shared/engine/transitions.ts';
import type { JobState } from '../../shared/ports/job-state.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { startLocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../helpers/aws-emulators.ts';
import { testBuiltins } from '../helpers/engine.ts';
import { defineExecutionSuite } from './execution.ts';

async function waitFinal(get: () => Promise<JobState | undefined>, results: () => Promise<unknown>) {
  for (let i = 0; ; i++) {
    const s = await get();
    if (s && isJobFinal(s) && (await results()) !== undefined) return s;
    await new Promise((r) => setTimeout(r, i < 20 ? 25 : 100));
  }
}

defineExecutionSuite('the AWS adapters (emulators)', async () => {
  const bed = await startAwsTestBed('conf');
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, 4),
    slots: 4,
    s3PollMs: 0,
    webhookBackoffMs: 20,
    agingMs: 0,
  });
  const { engine } = stack;
  return {
    async run(pipeline, flowInput) {
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
        nodes: job.nodes as unknown as Record<string, Record<string, unknown>>,
        results: await engine.jobs.getResults(job.jobId),
        items: (node) => engine.tasks.nodeResults(job.jobId, node),
      };
    },
    async close() {
      await stack.close();
      await bed.close();
    },
  };
});
