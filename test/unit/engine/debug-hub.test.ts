// The debug sessions of one engine (engine/debug-hub.ts): a task handed to a session ends with the
// outcome it reports, as stopped when its job stops first, and goes back to the normal workers
// (undefined) when the session detaches or stops asking; where no session can exist the API says
// so (501). The whole path against a real `sluice serve` is test/e2e/debug.test.ts.
import { describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import { DebugHub } from '../../../shared/engine/debug-hub.ts';
import { validatePipeline } from '../../../shared/pipeline/index.ts';
import type { TaskSpec } from '../../../shared/ports/task-runner.ts';
import { openTestEngine, serviceOf } from '../../helpers/engine.ts';

const spec = (taskId: string): TaskSpec => ({
  info: { jobId: 'j', taskId, nodeName: 'N', pipelineName: 'p' },
  algorithm: { name: 'alg', env: 'builtin' },
  input: [taskId],
});

describe('DebugHub', () => {
  it('hands tasks to the session in order and resolves with what it reports', async () => {
    const hub = new DebugHub();
    const s = hub.attach('alg');
    const one = hub.run(spec('t1'), new AbortController().signal);
    const two = hub.run(spec('t2'), new AbortController().signal);
    expect(hub.list()).toMatchObject([{ sessionId: s.sessionId, waiting: 2, running: [] }]);
    expect((await hub.lease(s.sessionId, 0))?.input).toEqual(['t1']);
    expect((await hub.lease(s.sessionId, 0))?.input).toEqual(['t2']);
    expect(hub.report(s.sessionId, { taskId: 't1', result: 42 })).toBe(true);
    expect(hub.report(s.sessionId, { taskId: 't2', error: 'boom' })).toBe(true);
    expect(hub.report(s.sessionId, { taskId: 't2', result: 1 })).toBe(false); // not its own any more
    expect(await one).toMatchObject({ status: 'succeeded', result: 42 });
    expect(await two).toMatchObject({ status: 'failed', error: 'boom' });
    // A lease waiting for work gets the next task as it comes.
    const waiting = hub.lease(s.sessionId, 5_000);
    void hub.run(spec('t3'), new AbortController().signal);
    expect((await waiting)?.info.taskId).toBe('t3');
    hub.close();
  });

  it('a stop ends a handed task as stopped; detaching and going idle give tasks back', async () => {
    const hub = new DebugHub(200);
    const s = hub.attach('alg');
    const stop = new AbortController();
    const stopped = hub.run(spec('t1'), stop.signal);
    stop.abort();
    expect(await stopped).toMatchObject({ status: 'failed', stopped: true });
    const queued = hub.run(spec('t2'), new AbortController().signal);
    const leased = hub.run(spec('t3'), new AbortController().signal);
    await hub.lease(s.sessionId, 0);
    expect(hub.detach(s.sessionId)).toBe(2);
    expect(await queued).toBeUndefined();
    expect(await leased).toBeUndefined();
    expect(() => hub.attach('other') && hub.attach('other')).toThrow(/has a debug session already/);
    // Idle for longer than the limit: detached, and the task runs normally.
    hub.attach('alg');
    const t0 = Date.now();
    const idle = hub.run(spec('t4'), new AbortController().signal);
    expect(await idle).toBeUndefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await new Promise((r) => setTimeout(r, 250));
    expect(hub.list()).toEqual([]);
    expect(hub.attached('alg')).toBe(false);
  });
});

describe('DebugHub keepAlive', () => {
  it('keeps a session attached past the idle limit while its client runs a task', async () => {
    const hub = new DebugHub(500);
    const s = hub.attach('alg');
    const run = hub.run(spec('t1'), new AbortController().signal);
    await hub.lease(s.sessionId, 0);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 150));
      hub.keepAlive(s.sessionId);
    }
    expect(hub.report(s.sessionId, { taskId: 't1', result: 'after a long pause' })).toBe(true);
    expect(await run).toMatchObject({ status: 'succeeded', result: 'after a long pause' });
    hub.detach(s.sessionId);
    expect(() => hub.keepAlive(s.sessionId)).toThrow(/is not attached/);
  });
});

describe('the debug routes', () => {
  it('attach is a 501 where the API and the dispatcher do not share a process', async () => {
    const t = await openTestEngine();
    try {
      const r = await handleApi(serviceOf(t), {
        method: 'POST',
        path: '/debug/attach',
        query: {},
        body: { algorithmName: 'echo' },
      });
      expect(r.status).toBe(501);
      expect(JSON.stringify(r.body)).toContain('sluice serve');
      // The engine's own service has the sessions: a debug node runs normally while none attached.
      const own = await handleApi(t.engine.engine.service, { method: 'GET', path: '/debug', query: {} });
      expect(own).toMatchObject({ status: 200, body: [] });
      const { job, results } = await t.run(
        validatePipeline({
          name: 'dbg',
          nodes: [{ nodeName: 'D', kind: 'debug', algorithmName: 'echo', input: [1] }],
        }),
      );
      expect(job.status).toBe('completed');
      expect(results).toMatchObject([{ nodeName: 'D', result: [1] }]);
    } finally {
      await t.close();
    }
  });
});
