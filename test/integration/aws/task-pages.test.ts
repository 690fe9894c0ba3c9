// Paging a node's tasks on the AWS adapters (DynamoDB, 16 shards per node) against the emulators:
// each page is a merge of the shards' sorted items that reads only what the page needs. The
// embedded twin is test/unit/api/task-pages.test.ts; both assert test/helpers/task-pages.ts.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { LocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startInlineAwsStack } from '../../helpers/aws-emulators.ts';
import { expectPagedTasks, pagedPipeline } from '../../helpers/task-pages.ts';

let stack: LocalAwsStack;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ stack, close } = await startInlineAwsStack('task-pages', { slots: 4 }));
}, 60_000);

afterAll(async () => {
  await close?.();
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
