// Paging a node's tasks on the embedded backend (SQLite): `GET /exec/tasks?nodeName&limit&after`.
// The AWS twin is test/integration/aws/task-pages.test.ts; both assert test/helpers/task-pages.ts.
import { afterAll, beforeAll, it } from 'vitest';
import { openTestEngine, serviceOf, type TestEngine } from '../../helpers/engine.ts';
import { expectPagedTasks, pagedPipeline } from '../../helpers/task-pages.ts';

let t: TestEngine;
beforeAll(async () => {
  t = await openTestEngine({ slots: 4 });
});
afterAll(async () => {
  await t?.close();
});

it('pages a 1,003-task node in batchIndex order: every task once, rows without values, filters, 400s', async () => {
  const { job } = await t.run(pagedPipeline(1003));
  await expectPagedTasks(serviceOf(t).deps, job.jobId, 1003, 100);
});
