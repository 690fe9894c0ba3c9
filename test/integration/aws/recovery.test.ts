// Crash windows between two writes, healed by the dispatch tick (on the emulators): a task whose
// outcome was written but never counted, and a task whose queue message was lost. When no task
// or outcome message exists anywhere, the sweep recounts from the task items, sends orphaned
// tasks again and continues the job.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import type { JobState } from '../../../shared/ports/job-state.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';

const builtins = allBuiltins();
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('recovery');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    noWorker: true,
    s3PollMs: 0,
    agingMs: 0,
    dispatchEveryMs: 3_600_000, // driven by hand below
    onError: () => {},
  });
});

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

async function settle(jobId: string): Promise<JobState> {
  for (let i = 0; i < 400; i++) {
    const j = await stack.engine.jobs.getJob(jobId);
    if (j && isJobFinal(j) && (await stack.engine.jobs.getResults(jobId)) !== undefined) return j;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${jobId} did not finish`);
}

it('an outcome written but never counted: the quiet sweep recounts and completes the job', async () => {
  const { engine, handlers } = stack;
  const job = await engine.coordinator.submit({
    name: 'lost-count',
    nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['#[1...2]'] }],
  });
  const claimed = await engine.queue.claim(10, () => 'take', Date.now());
  expect(claimed).toHaveLength(2);
  for (const t of claimed) {
    // The status function wrote the task item, then "crashed" before counting it.
    expect(
      await engine.tasks.writeFinish(t.taskId, {
        status: 'succeeded',
        result: t.batchIndex,
        attempt: 1,
        at: Date.now(),
      }),
    ).toBe(true);
    await engine.queue.settle(t);
  }
  expect((await engine.jobs.getJob(job.jobId))?.status).not.toBe('completed');
  const tick = await handlers.dispatch();
  expect(tick.reconciled).toBe(1);
  const done = await settle(job.jobId);
  expect(done.status).toBe('completed');
  expect(done.nodes.get('a')).toMatchObject({ succeeded: 2, total: 2 });
});

it('a task whose message was lost is sent again by the quiet sweep and runs', async () => {
  const { engine, handlers } = stack;
  const job = await engine.coordinator.submit({
    name: 'lost-message',
    nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['x'] }],
  });
  // The message disappears (deleted without running): the task item stays queued.
  const [t] = await engine.queue.claim(10, () => 'take', Date.now());
  if (t) await engine.queue.settle(t);
  await handlers.dispatch();
  const c = new AbortController();
  const w = stack.startWorker(new InlineRunner(builtins, 2), 2, c.signal);
  try {
    const done = await settle(job.jobId);
    expect(done.status).toBe('completed');
    const [result] = (await engine.jobs.getResults(job.jobId)) as { nodeName: string; result: unknown }[];
    expect(result).toMatchObject({ nodeName: 'a', result: ['x'] });
  } finally {
    c.abort();
    await w.worker.done;
  }
});
