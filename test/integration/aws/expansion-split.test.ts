// A batch larger than one invocation may create (SLUICE_EXPAND_MAX_ITEMS, made small here) is
// expanded in parts through the event queue: each part continues from the checkpoint on the node,
// and every task exists and runs exactly once.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
const runs = new Map<string, number>();
let reconciles = 0;

beforeAll(async () => {
  bed = await startAwsTestBed('split');
  const builtins = allBuiltins();
  const runner = new InlineRunner(builtins, 8);
  const run = runner.run.bind(runner);
  runner.run = (spec, signal) => {
    runs.set(spec.info.taskId, (runs.get(spec.info.taskId) ?? 0) + 1);
    return run(spec, signal);
  };
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env, SLUICE_EXPAND_MAX_ITEMS: '50' },
    builtins,
    runner,
    slots: 8,
    s3PollMs: 0,
    agingMs: 0,
    onError: () => {},
  });
  // The expand function's handler calls reconcile once per event (a part of the expansion each).
  const reconcile = stack.engine.coordinator.reconcile.bind(stack.engine.coordinator);
  stack.engine.coordinator.reconcile = (jobId: string) => {
    reconciles++;
    return reconcile(jobId);
  };
});

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

it('expands a 500-item batch in parts of 50 across invocations; every task runs once', async () => {
  const res = await stack.handlers.api({
    httpMethod: 'POST',
    path: '/api/v1/exec/raw',
    body: JSON.stringify({
      name: 'split',
      nodes: [
        { nodeName: 'fan', algorithmName: 'echo', input: ['#[1...500]'] },
        { nodeName: 'all', algorithmName: 'echo', input: ['@fan'] },
      ],
    }),
    headers: {},
    isBase64Encoded: false,
  } as never);
  expect(res.statusCode).toBe(201);
  const { jobId } = JSON.parse(res.body) as { jobId: string };
  const deadline = Date.now() + 240_000;
  let job = await stack.engine.jobs.getJob(jobId);
  while (!job || !isJobFinal(job)) {
    if (Date.now() > deadline)
      throw new Error(
        `job still ${job?.status} after 240 s: fan ${JSON.stringify(job?.nodes.get('fan'))}, ${reconciles} reconciles, ${runs.size} runs`,
      );
    await new Promise((r) => setTimeout(r, 100));
    job = await stack.engine.jobs.getJob(jobId);
  }
  expect(job.status).toBe('completed');
  expect(job.nodes.get('fan')).toMatchObject({ status: 'succeeded', total: 500, succeeded: 500 });
  expect(job.nodes.get('fan')?.expandedItems).toBeUndefined();
  // 10 parts: the api's deferred expansion, then one continuation per part.
  expect(reconciles).toBeGreaterThanOrEqual(10);
  const tasks = await stack.engine.tasks.listTasks(jobId, 'fan');
  expect(tasks).toHaveLength(500);
  expect(tasks.every((t) => t.status === 'succeeded' && t.attempts === 1)).toBe(true);
  const fanRuns = [...runs].filter(([id]) => id.startsWith(`${jobId}.fan.`));
  expect(fanRuns).toHaveLength(500);
  expect(fanRuns.every(([, n]) => n === 1)).toBe(true);
  const results = (await stack.engine.jobs.getResults(jobId)) as { result: unknown[] }[];
  expect(results[0]?.result[0]).toEqual(Array.from({ length: 500 }, (_, i) => [i + 1]));
}, 300_000);
