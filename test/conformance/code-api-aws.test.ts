// HKube's code API on the AWS adapters against the emulators: the worker (one slot, the local
// worker pool) starts the children through its own engine's ports; the functions apply outcomes.
import { startLocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../helpers/aws-emulators.ts';
import { defineCodeApiSuite } from './code-api.ts';

defineCodeApiSuite('the AWS adapters (emulators)', async (dir) => {
  const bed = await startAwsTestBed('codeapi');
  const stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env, SLUICE_CACHE_DIR: `${dir}/cache` },
    slots: 1,
    s3PollMs: 0,
    agingMs: 0,
  });
  return {
    coordinator: stack.engine.coordinator,
    async close() {
      await stack.close();
      await bed.close();
    },
  };
});
