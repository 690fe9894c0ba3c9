// Dynamic ("open") jobs on the embedded engine: tasks added by key while the job runs, a failed
// task that does not end the job, and the job finishing only once its client closed it.
import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import type { Coordinator } from '../../../shared/engine/coordinator.ts';
import { WAIT_GATHER_MS, waitForDynamicTasks } from '../../../shared/engine/dynamic-tasks.ts';
import { EngineFeed } from '../../../shared/engine/feed.ts';
import { closeMissingLastCount } from '../../helpers/dynamic-close.ts';
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

  it('completes when closed although the close read the job before its last outcome was counted', async () => {
    // AWS: the status function counts the last outcome and reads the job still open, while the
    // close, under way, had read the job before that count: neither would finish the job.
    t = await openTestEngine();
    const c = t.engine.coordinator;
    const job = await c.submit(OPEN, { dynamic: true });
    const [added] = await c.addDynamicTasks(job.jobId, 'N', [{ key: 'a', input: ['A'] }]);
    while ((await c.waitForDynamicTasks(job.jobId, [added?.taskId as string], 5000)).length === 0) {}
    expect((await closeMissingLastCount(c, job.jobId, 'N')).status).toBe('completed');
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

describe('a wait woken by a finished task', () => {
  /** A coordinator whose feed and task statuses the test drives. */
  function tasksOf(ids: string[]) {
    const feed = new EngineFeed();
    const status = new Map(ids.map((id) => [id, 'active']));
    const records = (ids: string[]) =>
      ids.map((taskId) => ({ taskId, jobId: 'j', status: status.get(taskId) as string }));
    const c = {
      feed,
      ports: {
        tasks: {
          taskStatuses: async (ids: string[]) => records(ids),
          getTasks: async (ids: string[]) => records(ids),
        },
      },
    } as unknown as Coordinator;
    const finish = (taskId: string) => {
      status.set(taskId, 'succeeded');
      feed.publish({ type: 'taskFinished', jobId: 'j', taskId, status: 'succeeded' });
    };
    return { c, finish };
  }

  it('answers at once when the task it awaits alone finishes: nothing is left to gather', async () => {
    const { c, finish } = tasksOf(['j.N.0']);
    const answer = waitForDynamicTasks(c, 'j', ['j.N.0'], 5_000);
    await new Promise((r) => setTimeout(r, 10)); // the wait has looked once and sleeps
    let answeredAt = 0;
    void answer.then(() => {
      answeredAt = performance.now();
    });
    finish('j.N.0');
    const finishedAt = performance.now();
    // Before a timer of the gathering time could fire: within the same few turns.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(answeredAt).toBeGreaterThanOrEqual(finishedAt);
    expect((await answer).map((t) => t.taskId)).toEqual(['j.N.0']);
  });

  it(`answers the tasks that finish within ${WAIT_GATHER_MS} ms of the first together`, async () => {
    const { c, finish } = tasksOf(['j.N.0', 'j.N.1', 'j.N.2']);
    const answer = waitForDynamicTasks(c, 'j', ['j.N.0', 'j.N.1', 'j.N.2'], 5_000);
    await new Promise((r) => setTimeout(r, 10)); // the wait has looked once and sleeps
    finish('j.N.0');
    setTimeout(() => finish('j.N.1'), 0); // within the gathering time
    setTimeout(() => finish('j.N.2'), 50); // after it
    expect((await answer).map((t) => t.taskId)).toEqual(['j.N.0', 'j.N.1']);
  });
});
