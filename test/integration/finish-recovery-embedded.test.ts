// Kill between the steps after a job's final status, on the embedded engine: the restart's
// recovery sweep (LocalEngine.recover) runs the missing steps exactly once. See finish-recovery.ts.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { openTestEngine, type TestEngine } from '../helpers/engine.ts';
import { KILL_POINTS, killBetweenCompletionSteps, startHookServer } from './finish-recovery.ts';

let t: TestEngine;
let hook: Awaited<ReturnType<typeof startHookServer>>;

beforeAll(async () => {
  t = await openTestEngine();
  hook = await startHookServer();
});
afterAll(async () => {
  await t?.close();
  hook?.server.close();
});

describe('embedded: a kill between completion steps', () => {
  for (const kill of KILL_POINTS) {
    it(`${kill}: the recovery sweep finishes the job's after-steps once`, async () => {
      const e = t.engine;
      await killBetweenCompletionSteps(
        {
          coordinator: e.coordinator,
          jobs: e.jobs,
          registry: e.registry,
          notifier: e.notifier,
          deps: e.service.deps,
          recover: () => e.recover(),
        },
        kill,
        hook,
      );
    }, 60_000);
  }
});
