// A stop on the AWS adapters (DynamoDB tallies, SQS) against the emulators: the job's counts add
// up after the stop (stopped counted from the store, nothing remaining) and each stopped item has
// its own reason, as on the embedded backend (test/unit/engine/stopped-items.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { status } from '../../../shared/api/exec.ts';
import type { LocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startInlineAwsStack } from '../../helpers/aws-emulators.ts';

let stack: LocalAwsStack;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ stack, close } = await startInlineAwsStack('stopped'));
}, 60_000);

afterAll(async () => {
  await close?.();
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
