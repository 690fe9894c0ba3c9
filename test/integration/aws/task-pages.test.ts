// Paging a node's tasks on the AWS adapters (DynamoDB, 16 shards per node) against the emulators:
// each page is a merge of the shards' sorted items that reads only what the page needs. The
// embedded twin is test/unit/api/task-pages.test.ts; both assert test/helpers/task-pages.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { testBuiltins } from '../../helpers/engine.ts';
import { expectPagedTasks, pagedPipeline } from '../../helpers/task-pages.ts';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('task-pages');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, 4),
    slots: 4,
    s3PollMs: 0,
    onError: () => {},
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

it('pages a node across its 16 shards in batchIndex order: every task once, filters, 400s', async () => {
  const { jobId } = await stack.engine.service.execRaw(pagedPipeline(70));
  const deadline = Date.now() + 60_000;
  while ((await stack.engine.jobs.getJob(jobId))?.status !== 'completed') {
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Pages of 7 read a few items from each shard and must merge them in order.
  await expectPagedTasks(stack.engine.service.deps, jobId, 70, 7);
}, 90_000);
