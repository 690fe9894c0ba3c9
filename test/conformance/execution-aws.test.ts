// The conformance execution cases on the AWS adapters: DynamoDB state, SQS priority queues, S3
// blobs, the status function fed by an SQS poller, and a worker — against the emulators started
// here (or LocalStack / an account with SLUICE_TEST_AWS=1, see README "AWS backend").
import { allBuiltins } from '../../shared/builtins/registry.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { startLocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../helpers/aws-emulators.ts';
import { testBuiltins } from '../helpers/engine.ts';
import { awsControls, awsExecution } from './aws-execution.ts';
import { defineExecutionSuite } from './execution.ts';

defineExecutionSuite('the AWS adapters (emulators)', async () => {
  const bed = await startAwsTestBed('conf');
  const builtins = allBuiltins();
  for (const b of testBuiltins) builtins.set(b.name, b);
  const stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, 4),
    slots: 4,
    s3PollMs: 0,
    webhookBackoffMs: 20,
    agingMs: 0,
  });
  return {
    run: awsExecution(stack),
    controls: awsControls(stack),
    async close() {
      await stack.close();
      await bed.close();
    },
  };
});
