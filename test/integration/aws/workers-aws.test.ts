// GET /api/v1/workers on the AWS adapters against the emulators: each worker puts what it runs
// into the registry table every few seconds (runtime/aws/worker-reports.ts) and the api side adds
// the recent reports up, keeping each worker's line, as the dashboard's workers page shows them.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { workers } from '../../../shared/api/workers.ts';
import type { workerActivityOnAws } from '../../../shared/runtime/aws/worker-reports.ts';
import type { LocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startInlineAwsStack } from '../../helpers/aws-emulators.ts';

let stack: LocalAwsStack;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ stack, close } = await startInlineAwsStack('workers'));
}, 60_000);

afterAll(async () => {
  await close?.();
});

type View = Awaited<ReturnType<typeof workerActivityOnAws>>;
const waitFor = async (f: (v: View) => boolean, ms = 60_000): Promise<View> => {
  const end = Date.now() + ms;
  for (;;) {
    const v = (await workers(stack.engine.service.deps)) as View;
    if (f(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last view ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
};

it('shows the worker, the tasks it runs, and what it finished', async () => {
  const { jobId } = await stack.engine.service.execRaw({
    name: 'busy',
    nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: ['#@flowInput.ms', 'ok'] }],
    // Long enough to be seen running: a worker reports every 5 s.
    flowInput: { ms: [7000, 7000] },
  });
  const running = await waitFor((v) => v.running.some((r) => r.jobId === jobId));
  expect(running.workers).toHaveLength(1);
  expect(running.workers[0]?.slots).toBe(2);
  expect(running.running.every((r) => r.workerId === running.workers[0]?.workerId)).toBe(true);
  expect(running.running[0]?.nodeName).toBe('S');

  const done = await waitFor((v) => v.tasksDone >= 2 && v.running.length === 0);
  expect(done.tasksFailed).toBe(0);
  expect(done.workers[0]?.tasksDone).toBeGreaterThanOrEqual(2);
  expect(Date.parse(done.workers[0]?.updatedAt as string)).toBeGreaterThan(Date.now() - 30_000);
}, 120_000);
