// The workers view (GET /workers) from the feed's task events: running tasks, tasks done and
// failed, and the bytes IO tasks reported, in total and per second over the last 10 s; and from a
// serving engine, a stopped job's task leaving the running ones.
import { expect, it } from 'vitest';
import { EngineFeed } from '../../../shared/engine/feed.ts';
import { WorkerActivity } from '../../../shared/engine/worker-activity.ts';
import { startTestHost } from '../../helpers/engine.ts';
import { waitFor } from '../../helpers/process.ts';

it('counts running and finished tasks and the IO bytes, with rates over the last seconds', () => {
  const feed = new EngineFeed();
  const activity = new WorkerActivity(feed, 2);
  const task = (n: number, status: 'active' | 'succeeded' | 'failed' | 'queued', ioBytes?: number) =>
    feed.publish({
      type: 'taskChanged',
      jobId: 'j',
      taskId: `j.n.${n}`,
      nodeName: 'n',
      batchIndex: n,
      status,
      ...(ioBytes !== undefined ? { ioBytes } : {}),
    });
  for (let n = 1; n <= 1000; n++) task(n, 'active');
  expect(activity.view().running).toHaveLength(1000);
  for (let n = 1; n <= 998; n++) task(n, 'succeeded', 1000);
  task(999, 'failed');
  task(1000, 'queued'); // a retry: not finished
  const v = activity.view();
  expect(v).toMatchObject({ slots: 2, tasksDone: 999, tasksFailed: 1, ioBytes: 998_000 });
  expect(v.running).toEqual([]);
  expect(v.tasksPerSecond).toBeGreaterThan(0);
  // Over less than a second since the engine started, the rate is over that time: at least the total.
  expect(v.ioBytesPerSecond).toBeGreaterThanOrEqual(998_000);
  // A finish of a task never seen starting (before this engine) counts nothing.
  task(5000, 'succeeded', 7);
  expect(activity.view().ioBytes).toBe(998_000);
});

it('a task its job’s stop ended leaves the running tasks when its run ends (the stop records it first)', async () => {
  const h = await startTestHost({ slots: 2 });
  try {
    const call = h.call;
    const job = await call('POST', '/exec/raw', {
      name: 'stopped-while-running',
      nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [60_000] }],
    });
    await waitFor(
      'the task running',
      async () => (await call('GET', '/workers')).running.length === 1 || undefined,
    );
    await call('POST', '/exec/stop', { jobId: job.jobId });
    await waitFor('the task gone from the running tasks', async () => {
      const v = await call('GET', '/workers');
      return v.running.length === 0 ? v : undefined;
    }).then((v) => expect(v).toMatchObject({ tasksDone: 1, tasksFailed: 0 }));
  } finally {
    await h.close();
  }
});
