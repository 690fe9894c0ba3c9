// Dynamic ("open") jobs on the embedded engine: tasks added by key while the job runs, a failed
// task that does not end the job, and the job finishing only once its client closed it.
import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const OPEN = { name: 'open', nodes: [{ nodeName: 'N', algorithmName: 'maybe-fail', input: [] }] };

describe('dynamic jobs', () => {
  it('run tasks added by key (a repeated key adds nothing) and finish when closed', async () => {
    t = await openTestEngine();
    const c = t.engine.coordinator;
    const job = await c.submit(OPEN, { dynamic: true });
    expect(job.status).toBe('pending');
    const first = await c.addDynamicTasks(job.jobId, 'N', [
      { key: 'a', input: ['A'] },
      { key: 'b', input: ['B'] },
    ]);
    expect(first.map((r) => r.added)).toEqual([true, true]);
    expect(first[0]?.taskId).toBe(`${job.jobId}.N.${first[0]?.batchIndex}`);
    await expect(c.addDynamicTasks(job.jobId, 'N', [{ key: 'b', input: ['other'] }])).rejects.toThrow(
      /key "b" is taken/,
    );
    const again = await c.addDynamicTasks(job.jobId, 'N', [
      { key: 'b', input: ['B'] },
      { key: 'c', input: ['C', ['C']] },
    ]);
    expect(again.map((r) => [r.key, r.taskId, r.added])).toEqual([
      ['b', first[1]?.taskId, false],
      ['c', again[1]?.taskId, true],
    ]);
    const ids = [...first, ...again].map((r) => r.taskId);
    const done = new Map<string, string>();
    while (done.size < 3) {
      for (const s of await c.waitForDynamicTasks(job.jobId, ids, 5000)) done.set(s.taskId, s.status);
    }
    expect([...done.values()].sort()).toEqual(['failed', 'succeeded', 'succeeded']);
    // A failed task does not end an open job: its client decides.
    expect((await t.engine.jobs.getJob(job.jobId))?.status).toBe('active');
    const closed = await c.closeDynamicJob(job.jobId);
    expect(closed.status).toBe('completed');
    expect(closed.nodes.get('N')).toMatchObject({ total: 3, succeeded: 2, failed: 1 });
    await expect(c.addDynamicTasks(job.jobId, 'N', [{ key: 'd', input: [] }])).rejects.toThrow(/completed/);
  });

  it('closed with a failure, fails and stops what still runs; the REST routes reach the same', async () => {
    t = await openTestEngine();
    const svc = t.engine.service;
    const started = await handleApi(svc, { method: 'POST', path: '/exec/dynamic', query: {}, body: OPEN });
    expect(started.status).toBe(201);
    const { jobId } = started.body as { jobId: string };
    const bad = await handleApi(svc, {
      method: 'POST',
      path: `/exec/dynamic/${jobId}/tasks`,
      query: {},
      body: { nodeName: 'N', tasks: [{ key: 'x' }] },
    });
    expect(bad.status).toBe(400);
    // A wait names at most 5,000 tasks (the make client splits larger sets over its polls).
    const tooMany = await handleApi(svc, {
      method: 'POST',
      path: `/exec/dynamic/${jobId}/wait`,
      query: {},
      body: { taskIds: Array.from({ length: 5001 }, (_, i) => `${jobId}.N.${i}`), timeoutMs: 0 },
    });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toMatch(/taskIds must have at most 5000 item/);
    const closed = await handleApi(svc, {
      method: 'POST',
      path: `/exec/dynamic/${jobId}/close`,
      query: {},
      body: { failed: 'make exited with status 2' },
    });
    expect(closed.body).toMatchObject({ status: 'failed', reason: 'make exited with status 2' });
    const notOpen = await handleApi(svc, {
      method: 'POST',
      path: `/exec/dynamic/${jobId}/close`,
      query: {},
      body: {},
    });
    expect(notOpen.status).toBe(409);
  });

  it('with no task at all, completes when closed', async () => {
    t = await openTestEngine();
    const job = await t.engine.coordinator.submit(OPEN, { dynamic: true });
    expect((await t.engine.coordinator.closeDynamicJob(job.jobId)).status).toBe('completed');
  });
});
