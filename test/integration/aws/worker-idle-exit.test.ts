// A worker with idleExitMs (SLUICE_IDLE_EXIT_SECONDS; an algorithm's own ECS task) drains and ends
// by itself once nothing has run for that long, never while a task runs: its ECS task then stops,
// which is how an algorithm's fleet scales to zero. On the emulators, with the real worker loop.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { testBuiltins } from '../../helpers/engine.ts';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('idle');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    noWorker: true,
    s3PollMs: 0,
    onError: () => {},
  });
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

const settled = (p: Promise<unknown>) =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 0))]);

it('an idle worker ends by itself; one running a task longer than the idle time does not', async () => {
  const never = new AbortController();
  const idle = stack.startWorker(new InlineRunner(builtins, 1), 1, never.signal, undefined, 500);
  const ended = await Promise.race([
    idle.worker.done.then(() => true),
    new Promise<boolean>((r) => setTimeout(() => r(false), 20_000)),
  ]);
  expect(ended).toBe(true);

  const job = await stack.engine.coordinator.submit({
    name: 'idle-exit',
    nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [2500, 'ok'] }],
  });
  const busy = stack.startWorker(new InlineRunner(builtins, 1), 1, never.signal, undefined, 500);
  for (let i = 0; i < 400 && busy.worker.dispatcher.runningCount === 0; i++)
    await new Promise((r) => setTimeout(r, 25));
  expect(busy.worker.dispatcher.runningCount).toBe(1);
  await new Promise((r) => setTimeout(r, 1500)); // three idle periods into the task
  expect(await settled(busy.worker.done)).toBe(false);
  await busy.worker.done; // then it ends by itself after the task
  let final = await stack.engine.jobs.getJob(job.jobId);
  for (let i = 0; i < 400 && !(final && isJobFinal(final)); i++) {
    await new Promise((r) => setTimeout(r, 50));
    final = await stack.engine.jobs.getJob(job.jobId);
  }
  expect(final?.status).toBe('completed');
  expect(final?.nodes.get('S')).toMatchObject({ succeeded: 1 });
}, 120_000);
