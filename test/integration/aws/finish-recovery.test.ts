// Kill between the steps after a job's final status, on the AWS adapters against the emulators:
// the status function "dies" at a step (its SQS message comes back and is a no-op then: the job is
// final), and the dispatch tick's recovery sweep runs the missing steps exactly once. See
// ../finish-recovery.ts for the scenario.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { testBuiltins } from '../../helpers/engine.ts';
import { KILL_POINTS, killBetweenCompletionSteps, startHookServer } from '../finish-recovery.ts';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let hook: Awaited<ReturnType<typeof startHookServer>>;

beforeAll(async () => {
  bed = await startAwsTestBed('finish', { visibilitySeconds: 1 });
  hook = await startHookServer();
  stack = await startLocalAwsStack({
    // A mark left behind is taken at the next tick (no grace): the tick is driven by hand.
    env: { ...process.env, ...bed.env, SLUICE_FINISHING_GRACE_SECONDS: '0' },
    builtins,
    runner: new InlineRunner(builtins, 4),
    slots: 4,
    s3PollMs: 0,
    agingMs: 0,
    webhookBackoffMs: 20,
    dispatchEveryMs: 3_600_000,
    onError: () => {},
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  hook?.server.close();
  await bed?.close();
});

describe('aws: a kill between completion steps', () => {
  for (const kill of KILL_POINTS) {
    it(`${kill}: the dispatch tick finishes the job's after-steps once`, async () => {
      const e = stack.engine;
      await killBetweenCompletionSteps(
        {
          coordinator: e.coordinator,
          jobs: e.jobs,
          registry: e.registry,
          notifier: e.notifier,
          deps: e.service.deps,
          recover: () => stack.handlers.dispatch(),
        },
        kill,
        hook,
      );
    }, 90_000);
  }
});
