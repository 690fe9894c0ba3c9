// The conformance execution cases with tasks run by the worker container task: the entry point
// ECS starts (container-tasks/worker.ts through runContainerTask), on the emulated AWS stack's
// queues and tables, with an in-process runner for the test built-ins. SIGTERM drains it.
import { createWorkerHandler } from '../../container-tasks/worker.ts';
import { AWS_ENV } from '../../shared/adapters/aws/config.ts';
import { allBuiltins } from '../../shared/builtins/registry.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { runContainerTask } from '../../shared/runtime/aws/container-task.ts';
import { startLocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../helpers/aws-emulators.ts';
import { testBuiltins } from '../helpers/engine.ts';
import { awsExecution } from './aws-execution.ts';
import { defineExecutionSuite } from './execution.ts';

defineExecutionSuite('the container worker (container-tasks/worker.ts)', async () => {
  const bed = await startAwsTestBed('conf-ct');
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const env = { ...process.env, ...bed.env, [AWS_ENV.workerSlots]: '4' };
  const stack = await startLocalAwsStack({
    env,
    builtins,
    noWorker: true,
    s3PollMs: 0,
    webhookBackoffMs: 20,
    agingMs: 0,
  });
  const signals = new Map<string, () => void>();
  const handler = createWorkerHandler({
    env,
    builtins,
    runner: (slots) => new InlineRunner(builtins, slots),
  });
  const exited = new Promise<number>((exit) => {
    void runContainerTask('sluice-worker', handler, {
      env: { SLUICE_TASK_EVENT: '{}' },
      exit,
      onSignal: (s, fn) => signals.set(s, fn),
      log: (line) => process.stderr.write(`${line}\n`),
    });
  });
  return {
    run: awsExecution(stack),
    async close() {
      signals.get('SIGTERM')?.();
      if ((await exited) !== 0) throw new Error('the worker container task exited non-zero');
      await stack.close();
      await bed.close();
    },
  };
});
