import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import type { TaskRunner } from '../../../shared/ports/task-runner.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { FakeClock } from '../../../shared/testing/fake-clock.ts';
import { openTestEngine, type TestEngine, testBuiltins } from '../../helpers/engine.ts';

/** Waits (real time) until `ok` holds: for work that runs outside the fake clock. */
async function until(ok: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await ok()); i++) await new Promise((r) => setTimeout(r, 10));
}

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const sleepy = (name: string, items: string, ms: number, extra: Record<string, unknown> = {}) => ({
  name,
  ...extra,
  nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [ms, items] }],
});

describe('stop and ttl', () => {
  it('stop ends the job within seconds and marks every unfinished task stopped', async () => {
    t = await openTestEngine({ slots: 2 });
    const job = await t.engine.coordinator.submit({
      name: 'stoppable',
      nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [30_000, '#[1...6]'] }],
    });
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await t.engine.coordinator.stop(job.jobId, 'enough');
    const final = await t.engine.waitForJob(job.jobId);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(final.status).toBe('stopped');
    expect(final.reason).toBe('enough');
    const tasks = await t.engine.tasks.listTasks(job.jobId);
    expect(tasks).toHaveLength(6);
    expect(tasks.every((x) => x.status === 'stopped')).toBe(true);
    await expect(t.engine.coordinator.stop(job.jobId)).rejects.toThrow(/already stopped/);
  });

  // ttls run on a FakeClock: a 1 s ttl is tested without waiting a second.
  it('pipeline ttl stops the job with a reason', async () => {
    const clock = new FakeClock();
    t = await openTestEngine({ slots: 2, clock });
    const job = await t.engine.coordinator.submit(sleepy('ttl', '#[1...3]', 30_000, { options: { ttl: 1 } }));
    await clock.advance(999);
    expect((await t.engine.jobs.getJob(job.jobId))?.status).not.toBe('stopped');
    await clock.advance(1);
    const final = await t.engine.waitForJob(job.jobId);
    expect(final.status).toBe('stopped');
    expect(final.reason).toBe('pipeline ttl of 1s expired');
  });

  it('activeTtl counts from the first task start', async () => {
    const clock = new FakeClock();
    t = await openTestEngine({ slots: 1, clock });
    const job = await t.engine.coordinator.submit(
      sleepy('attl', '#[1...2]', 30_000, { options: { activeTtl: 1 } }),
    );
    await until(async () => (await t?.engine.jobs.getJob(job.jobId))?.status === 'active');
    await clock.advance(1000);
    const final = await t.engine.waitForJob(job.jobId);
    expect(final.status).toBe('stopped');
    expect(final.reason).toBe('pipeline activeTtl of 1s expired');
  });

  it('node ttl kills the task and fails it', async () => {
    const clock = new FakeClock();
    t = await openTestEngine({ clock });
    const job = await t.engine.coordinator.submit({
      name: 'nodettl',
      nodes: [
        {
          nodeName: 'S',
          algorithmName: 'sleep',
          input: [30_000, 'x'],
          ttl: 1,
          retry: { policy: 'Never', limit: 1 },
        },
      ],
    });
    await until(async () => t?.engine.dispatcher.runningCount === 1);
    await clock.advance(1000);
    const final = await t.engine.waitForJob(job.jobId);
    expect(final.status).toBe('failed');
    expect(final.reason).toMatch(/node S failed: .*timed out/);
  });
});

describe('priority and concurrency', () => {
  it('with one worker, a priority-5 job overtakes queued priority-1 tasks', async () => {
    t = await openTestEngine({ slots: 1 });
    const low = await t.engine.coordinator.submit(sleepy('low', '#[1...4]', 100, { priority: 1 }));
    await new Promise((r) => setTimeout(r, 30));
    const high = await t.engine.coordinator.submit(sleepy('high', '#[1...2]', 100, { priority: 5 }));
    await t.engine.waitForJob(low.jobId);
    const lowTasks = await t.engine.tasks.listTasks(low.jobId);
    const highTasks = await t.engine.tasks.listTasks(high.jobId);
    const lastHigh = Math.max(...highTasks.map((x) => x.startedAt ?? 0));
    // The first low task was already running; the high ones start before the remaining low ones.
    const lowAfter = lowTasks.filter((x) => (x.startedAt ?? 0) > lastHigh);
    expect(lowAfter.length).toBeGreaterThanOrEqual(2);
  });

  it('aging lets a long-waiting low-priority task run before newer urgent ones', async () => {
    // Aging runs on a FakeClock; the order tasks start in is recorded by the runner itself.
    const clock = new FakeClock();
    const builtins = allBuiltins();
    for (const b of testBuiltins) builtins.set(b.name, b);
    const inline = new InlineRunner(builtins, 1, clock);
    const startedJobs: string[] = [];
    const runner: TaskRunner = {
      run: (task, signal) => {
        startedJobs.push(task.info.jobId);
        return inline.run(task, signal);
      },
      freeSlots: () => inline.freeSlots(),
      close: () => inline.close(),
    };
    t = await openTestEngine({ slots: 1, agingMs: 50, clock, runner, builtins });
    const blocker = await t.engine.coordinator.submit(sleepy('blocker', 'x', 300, { priority: 5 }));
    const low = await t.engine.coordinator.submit(sleepy('aged', 'x', 10, { priority: 1 }));
    await clock.advance(250);
    const urgent = await t.engine.coordinator.submit(sleepy('urgent', 'x', 10, { priority: 5 }));
    await t.engine.waitForJob(urgent.jobId);
    await t.engine.waitForJob(low.jobId);
    await t.engine.waitForJob(blocker.jobId);
    expect(startedJobs).toEqual([blocker.jobId, low.jobId, urgent.jobId]);
  });

  it('concurrentPipelines rejects a run over the limit with a clear message', async () => {
    t = await openTestEngine({ slots: 2 });
    const p = sleepy('limited', 'x', 2000, {
      options: { concurrentPipelines: { amount: 1, rejectOnFailure: true } },
    });
    const first = await t.engine.coordinator.submit(p);
    await expect(t.engine.coordinator.submit(p)).rejects.toThrow(
      /maximum of concurrentPipelines.amount \(1\)/,
    );
    expect((await t.engine.jobs.listJobs({ pipelineName: 'limited' })).length).toBe(1);
    await t.engine.coordinator.stop(first.jobId);
  });

  it('concurrentPipelines with rejectOnFailure: false queues the run until a slot frees', async () => {
    t = await openTestEngine({ slots: 2 });
    const p = sleepy('queued', 'x', 150, {
      options: { concurrentPipelines: { amount: 1, rejectOnFailure: false } },
    });
    const a = await t.engine.coordinator.submit(p);
    const b = await t.engine.coordinator.submit(p);
    expect(b.status).toBe('pending');
    expect(b.admitted).toBe(false);
    const fa = await t.engine.waitForJob(a.jobId);
    const fb = await t.engine.waitForJob(b.jobId);
    expect(fb.status).toBe('completed');
    expect(fb.startedAt ?? 0).toBeGreaterThanOrEqual(fa.finishedAt ?? Number.POSITIVE_INFINITY);
  });
});

describe('webhooks, triggers, reruns', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function receiver(
    fail = 0,
  ): Promise<{ url: string; got: { path: string; body: Record<string, unknown> }[] }> {
    const got: { path: string; body: Record<string, unknown> }[] = [];
    let failures = fail;
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => {
        text += d;
      });
      req.on('end', () => {
        if (failures-- > 0) {
          res.writeHead(503).end();
          return;
        }
        got.push({ path: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(200).end('ok');
      });
    });
    await new Promise<void>((r) => server?.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
  }

  it('POSTs the result webhook (retrying a failing receiver) and records every delivery', async () => {
    t = await openTestEngine();
    const rx = await receiver(2);
    const { job } = await t.run({
      name: 'hooked',
      webhooks: { result: `${rx.url}/result`, progress: `${rx.url}/progress` },
      options: { progressVerbosityLevel: 'error' },
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }],
    });
    await t.engine.notifier.drain();
    const result = rx.got.filter((g) => g.path === '/result');
    expect(result).toHaveLength(1);
    expect(result[0]?.body).toMatchObject({
      jobId: job.jobId,
      status: 'completed',
      data: [{ nodeName: 'A', result: [1] }],
    });
    // progressVerbosityLevel error: info-level progress events are not sent for a completed job.
    expect(rx.got.filter((g) => g.path === '/progress')).toHaveLength(0);
    const deliveries = await t.engine.notifier.deliveries(job.jobId);
    expect(deliveries.map((d) => [d.kind, d.status, d.attempts])).toEqual([['result', 'delivered', 3]]);
  });

  it('progress webhooks send events of the configured level and above', async () => {
    t = await openTestEngine();
    const rx = await receiver();
    const { job } = await t.run({
      name: 'progress',
      webhooks: { progress: `${rx.url}/progress` },
      options: { progressVerbosityLevel: 'warn', batchTolerance: 90 },
      nodes: [{ nodeName: 'A', algorithmName: 'maybe-fail', input: ['#[1...3]', [2]] }],
    });
    await t.engine.notifier.drain();
    const levels = rx.got.map((g) => g.body.level);
    expect(levels.length).toBeGreaterThan(0);
    expect(levels.every((l) => l === 'warn' || l === 'error' || l === 'critical')).toBe(true);
    expect(
      (await t.engine.notifier.deliveries(job.jobId, 'progress')).every((d) => d.status === 'delivered'),
    ).toBe(true);
  });

  it('a completed pipeline starts the stored pipelines that list it in triggers.pipelines', async () => {
    t = await openTestEngine();
    await t.engine.registry.putPipeline(
      (await import('../../../shared/pipeline/index.ts')).validatePipeline(
        {
          name: 'child',
          triggers: { pipelines: ['parent'] },
          nodes: [{ nodeName: 'C', algorithmName: 'echo', input: ['@flowInput.parent'] }],
        },
        { checkFlowInput: false },
      ),
      'create',
    );
    const { job } = await t.run({
      name: 'parent',
      nodes: [{ nodeName: 'P', algorithmName: 'echo', input: [42] }],
    });
    for (let i = 0; i < 50 && (await t.engine.jobs.listJobs({ pipelineName: 'child' })).length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const [child] = await t.engine.jobs.listJobs({ pipelineName: 'child' });
    expect(child).toBeDefined();
    const done = await t.engine.waitForJob(child?.jobId ?? '');
    expect(done.origin).toEqual({ kind: 'trigger', parentJobId: job.jobId, triggerDepth: 1 });
    expect(await t.engine.jobs.getResults(done.jobId)).toEqual([
      {
        nodeName: 'C',
        algorithmName: 'echo',
        result: [[{ nodeName: 'P', algorithmName: 'echo', result: [42] }]],
      },
    ]);
  });

  it('caching reruns a node and its descendants with the stored outputs of the others', async () => {
    t = await openTestEngine();
    const { job } = await t.run({
      name: 'cache',
      nodes: [
        { nodeName: 'A', algorithmName: 'flaky-error', input: ['cacheA', 0] },
        { nodeName: 'B', algorithmName: 'echo', input: ['@A'] },
        { nodeName: 'C', algorithmName: 'echo', input: ['@B'] },
      ],
    });
    expect(job.status).toBe('completed');
    const again = await t.engine.coordinator.submitCaching(job.jobId, 'B');
    const done = await t.engine.waitForJob(again.jobId);
    expect(done.status).toBe('completed');
    const { runCounts } = await import('../../helpers/engine.ts');
    expect(runCounts.get('cacheA')).toBe(1); // A was not run again
    expect(await t.engine.jobs.getResults(done.jobId)).toEqual(await t.engine.jobs.getResults(job.jobId));
    const bTasks = await t.engine.tasks.listTasks(done.jobId, 'B');
    expect(bTasks[0]?.startedAt).toBeGreaterThan(job.finishedAt ?? 0);
  });
});
