// A stop on the AWS adapters (DynamoDB tallies, SQS) against the emulators: the job's counts add
// up after the stop (stopped counted from the store, nothing remaining) and each stopped item has
// its own reason, as on the embedded backend (test/unit/engine/stopped-items.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { status } from '../../../shared/api/exec.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { testBuiltins } from '../../helpers/engine.ts';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('stopped');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, 2),
    slots: 2,
    s3PollMs: 0,
    onError: () => {},
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

const waitUntil = async (f: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

it('counts the stopped tasks after a stop, with nothing remaining and each item’s own reason', async () => {
  const deps = stack.engine.service.deps;
  const { jobId } = await stack.engine.service.execRaw({
    name: 'aws-stop',
    nodes: [
      { nodeName: 'Slow', algorithmName: 'sleep', input: ['#@flowInput.ms', 'x'] },
      { nodeName: 'Sink', algorithmName: 'echo', input: ['@Slow'] },
    ],
    flowInput: { ms: Array.from({ length: 12 }, () => 5000) },
  });
  await waitUntil(async () => (await status(deps, jobId)).tasks.created === 12);
  await stack.engine.coordinator.stop(jobId, 'enough');
  const s = await status(deps, jobId);
  expect(s.status).toBe('stopped');
  expect(s.tasks).toMatchObject({ created: 12, remaining: 0, stopped: 12, succeeded: 0 });
  expect(s.progress).toBe(0);
  const tasks = await stack.engine.tasks.listTasks(jobId, 'Slow');
  expect(tasks.map((t) => [t.status, t.error])).toEqual(
    Array.from({ length: 12 }, () => ['stopped', 'stopped before it finished: enough']),
  );
  expect(await stack.engine.jobs.getResults(jobId)).toEqual([
    { nodeName: 'Sink', algorithmName: 'echo', result: null, error: 'the node did not run' },
  ]);
}, 60_000);
