// Items that never ran because their job was stopped or failed: each is `stopped` with its own
// reason (not the failed task's text), the job's counts add up after the stop (stopped counted,
// nothing remaining, progress where it stopped), and a sink that never ran says so in the results.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '../../../shared/api/exec.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine;
beforeAll(async () => {
  t = await openTestEngine({ slots: 2 });
});
afterAll(async () => {
  await t?.close();
});

const waitUntil = async (f: () => Promise<boolean>) => {
  const end = Date.now() + 20_000;
  while (!(await f())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('a stopped job', () => {
  it('counts its stopped tasks, has nothing remaining, shows progress where it stopped', async () => {
    const job = await t.engine.coordinator.submit({
      name: 'stop-me',
      nodes: [
        { nodeName: 'Slow', algorithmName: 'sleep', input: ['#@flowInput.ms', 'x'] },
        { nodeName: 'Sink', algorithmName: 'echo', input: ['@Slow'] },
      ],
      flowInput: { ms: Array.from({ length: 20 }, () => 100) },
    });
    await waitUntil(async () => ((await status(t.engine.service.deps, job.jobId)).tasks.succeeded ?? 0) >= 2);
    await t.engine.coordinator.stop(job.jobId, 'enough for today');
    await t.engine.waitForJob(job.jobId);
    await waitUntil(async () => {
      const s = await status(t.engine.service.deps, job.jobId);
      return s.tasks.remaining === 0;
    });
    const s = await status(t.engine.service.deps, job.jobId);
    expect(s.status).toBe('stopped');
    expect(s.tasks.created).toBe(20);
    expect(s.tasks.succeeded + s.tasks.stopped).toBe(20);
    expect(s.tasks.stopped).toBeGreaterThan(0);
    expect(s.progress).toBe(Math.floor((s.tasks.succeeded / 21) * 100)); // 20 items + the unexpanded sink
    const slow = s.nodes.find((n) => n.nodeName === 'Slow');
    expect(slow?.stopped).toBe(s.tasks.stopped);

    const stopped = (await t.engine.tasks.listTasks(job.jobId, 'Slow')).filter((x) => x.status === 'stopped');
    expect(stopped.length).toBe(s.tasks.stopped);
    for (const x of stopped) expect(x.error).toBe('stopped before it finished: enough for today');

    const results = (await t.engine.jobs.getResults(job.jobId)) as Record<string, unknown>[];
    expect(results).toEqual([
      { nodeName: 'Sink', algorithmName: 'echo', result: null, error: 'the node did not run' },
    ]);
  });
});

describe('a job failed by one item', () => {
  it('stops its other items with their own reason, naming the job failure in one line', async () => {
    const { job } = await t.run({
      name: 'fail-fast',
      options: { batchTolerance: 0 },
      nodes: [
        { nodeName: 'Bad', algorithmName: 'maybe-fail', input: ['#[1...2]', [1]] },
        { nodeName: 'Wait', algorithmName: 'sleep', input: ['#@flowInput.ms', null] },
      ],
      flowInput: { ms: [5000, 5000, 5000] },
    });
    expect(job.status).toBe('failed');
    const failed = (await t.engine.tasks.listTasks(job.jobId, 'Bad')).find((x) => x.status === 'failed');
    expect(failed?.error).toMatch(/failed on 1/);
    await waitUntil(async () => (await status(t.engine.service.deps, job.jobId)).tasks.remaining === 0);
    const stopped = (await t.engine.tasks.listTasks(job.jobId)).filter((x) => x.status === 'stopped');
    expect(stopped.map((x) => x.nodeName)).toContain('Wait');
    for (const x of stopped) {
      expect(x.error).toMatch(/^stopped before it finished: the job failed \(node Bad: /);
      expect(x.error).not.toContain('\n');
    }
  });
});
