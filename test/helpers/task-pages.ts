// The paging of `GET /exec/tasks` (limit / after / values=false), asserted the same way on every
// backend's TaskStore: pages walk a node's tasks in batchIndex order with nothing lost or repeated.
import { expect } from 'vitest';
import type { ApiDeps } from '../../shared/api/api-deps.ts';
import { findTasks } from '../../shared/api/task-logs.ts';

/** A batch of `items` (`maybe-fail` items 7 and `items - 10` fail) that keeps going on failures. */
export const pagedPipeline = (items: number) => ({
  name: 'paged-tasks',
  options: { batchTolerance: 100 },
  nodes: [{ nodeName: 'B', algorithmName: 'maybe-fail', input: [`#[1...${items}]`, [7, items - 10]] }],
});

export async function expectPagedTasks(deps: ApiDeps, jobId: string, items: number, pageSize: number) {
  const all = await deps.tasks.listTasks(jobId, 'B');
  expect(all).toHaveLength(items);

  const walked: { batchIndex?: number; taskId: string; input?: unknown }[] = [];
  let pages = 0;
  for (let after: number | undefined; ; pages++) {
    const page = await findTasks(deps, jobId, {
      node: 'B',
      limit: String(pageSize),
      ...(after !== undefined ? { after: String(after) } : {}),
      values: 'false',
    });
    walked.push(...page);
    if (page.length < pageSize) break;
    after = page[page.length - 1]?.batchIndex;
  }
  expect(pages).toBe(Math.floor(items / pageSize));
  expect(walked.map((t) => t.batchIndex)).toEqual(Array.from({ length: items }, (_, i) => i + 1));
  expect(walked.map((t) => t.taskId)).toEqual(all.map((t) => t.taskId));
  // Rows without their values, with what a table shows.
  expect(walked.every((t) => !('input' in t) && !('result' in t) && !('logs' in t))).toBe(true);
  expect(walked[6]).toMatchObject({
    status: 'failed',
    attempts: 1,
    error: expect.stringContaining('failed on 7'),
  });

  // A late page reads only its own tasks; with values by default.
  const late = await findTasks(deps, jobId, { node: 'B', after: String(items - 3), limit: '10' });
  expect(late.map((t) => [t.batchIndex, t.status, t.input, t.result])).toEqual(
    [items - 2, items - 1, items].map((i) => [i, 'succeeded', [i, [7, items - 10]], i]),
  );

  // A status filter pages too, one task at a time.
  const failed: (number | undefined)[] = [];
  for (let after = 0; ; ) {
    const [t] = await findTasks(deps, jobId, {
      node: 'B',
      status: 'failed',
      limit: '1',
      after: String(after),
    });
    if (!t) break;
    failed.push(t.batchIndex);
    after = t.batchIndex ?? 0;
  }
  expect(failed).toEqual([7, items - 10]);

  // One item is one read.
  const [item] = await findTasks(deps, jobId, { node: 'B', item: String(items - 10) });
  expect(item).toMatchObject({
    batchIndex: items - 10,
    status: 'failed',
    input: [items - 10, [7, items - 10]],
  });
  expect(await findTasks(deps, jobId, { node: 'B', item: String(items + 1) })).toEqual([]);

  // Bad paging is a 400 that names the parameter.
  await expect(findTasks(deps, jobId, { node: 'B', limit: '0' })).rejects.toMatchObject({
    status: 400,
    field: 'limit',
  });
  await expect(findTasks(deps, jobId, { node: 'B', after: '-1' })).rejects.toMatchObject({ field: 'after' });
  await expect(findTasks(deps, jobId, { limit: '10' })).rejects.toMatchObject({ field: 'nodeName' });
  await expect(findTasks(deps, jobId, { node: 'B', values: 'no' })).rejects.toMatchObject({
    field: 'values',
  });
}
