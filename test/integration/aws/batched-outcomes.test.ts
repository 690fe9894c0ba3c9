// The status function on the AWS adapters against the emulators, fed the way a worker's batched
// sends and SQS redelivery feed it: the outcomes of a whole batch node in one SQS batch, each one
// twice, then the whole batch again (a status function that died before deleting it). Every task
// is applied once, the node's counts are exact, and its completion is written once per tally read
// (not once per outcome that read it), so the job's version moves by the completion alone.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reportedTask } from '../../../shared/engine/outcomes.ts';
import { taskIdentity } from '../../../shared/engine/task-identity.ts';
import { sqsRecord } from '../../../shared/runtime/aws-emulated/glue.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';

let stack: LocalAwsStack;
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;

beforeAll(async () => {
  bed = await startAwsTestBed('outcomes');
  // No worker: the test plays the worker's part and sends the outcomes itself.
  stack = await startLocalAwsStack({ env: { ...process.env, ...bed.env }, noWorker: true, s3PollMs: 0 });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

const waitUntil = async (f: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

it('applies every outcome of a batch once under duplicates and redelivery, completing the node once', async () => {
  const items = 12;
  const { jobId } = await stack.engine.service.execRaw({
    name: 'aws-batched-outcomes',
    nodes: [{ nodeName: 'B', algorithmName: 'echo', input: [`#[1...${items}]`] }],
  });
  await waitUntil(async () => (await stack.engine.tasks.listTasks(jobId, 'B')).length === items);
  const before = await stack.engine.jobs.getJob(jobId);
  expect(before?.nodes.get('B')?.total).toBe(items);
  const tasks = await stack.engine.tasks.listTasks(jobId, 'B');
  // What a worker sends for each: the task as it ran (attempt 1) and its result.
  const bodies = tasks.map((t) =>
    JSON.stringify({
      taskId: t.taskId,
      status: 'succeeded',
      result: { item: t.batchIndex },
      task: reportedTask({ ...taskIdentity(t), taskId: t.taskId, input: [], attempt: 1 }),
    }),
  );
  const event = (copy: string) => ({
    Records: [...bodies, ...bodies].map((body, i) =>
      sqsRecord(
        { MessageId: `${copy}-${i}`, ReceiptHandle: `r-${copy}-${i}`, Body: body },
        stack.engine.config.statusQueueUrl,
      ),
    ),
  });
  const first = await stack.handlers.status(event('a'));
  expect(first.batchItemFailures).toEqual([]);
  const redelivered = await stack.handlers.status(event('b'));
  expect(redelivered.batchItemFailures).toEqual([]);

  const job = await stack.engine.jobs.getJob(jobId);
  expect(job?.status).toBe('completed');
  expect(job?.nodes.get('B')).toMatchObject({ status: 'succeeded', succeeded: items, failed: 0, stopped: 0 });
  const counts = await stack.engine.tasks.nodeCounts(jobId);
  expect(counts.B).toMatchObject({ created: items, succeeded: items, failed: 0, stopped: 0 });
  const after = await stack.engine.tasks.listTasks(jobId, 'B');
  expect(after.map((t) => [t.batchIndex, t.status, t.attempts])).toEqual(
    Array.from({ length: items }, (_, i) => [i + 1, 'succeeded', 1]),
  );
  const results = (await stack.engine.jobs.getResults(jobId)) as { batchIndex?: number; result: unknown }[];
  expect(results.map((r) => r.result)).toEqual(Array.from({ length: items }, (_, i) => ({ item: i + 1 })));
  // The 24 outcomes of the first batch share one or two tally reads: the completion is written
  // by one outcome per read, not by every outcome that saw the node done.
  expect((job?.version ?? 0) - (before?.version ?? 0)).toBeLessThanOrEqual(2);
}, 60_000);
