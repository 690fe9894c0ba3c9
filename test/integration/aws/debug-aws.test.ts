// `sluice debug` sessions on the AWS backend against the emulators: the api function (API Gateway
// events, one engine) attaches, leases and reports through records in the registry table; the
// worker (its own engine, tasks claimed from SQS) hands a debug node's task to the session, waits
// for the outcome with the task's lease kept alive, and reports it through the status queue. A
// detach or a session that stops asking gives the tasks back to the worker, which runs them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INLINE_VALUE_LIMIT } from '../../../shared/ports/blob-store.ts';
import type { DebugSessionView, DebugTask } from '../../../shared/ports/debug-sessions.ts';
import { isJobFinal } from '../../../shared/ports/job-state.ts';
import type { LocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { proxyEvent } from '../../helpers/api-gateway-event.ts';
import { startInlineAwsStack } from '../../helpers/aws-emulators.ts';
import { sluiceEnv, startSluice } from '../../helpers/process.ts';

/** A session that asks nothing this long ends (30 s deployed). */
const IDLE_MS = 3000;

let stack: LocalAwsStack;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ stack, close } = await startInlineAwsStack('debug', {
    stack: {
      // API Gateway's part, for the CLI (`sluice debug --endpoint`).
      http: { port: 0, host: '127.0.0.1' },
      debug: { idleMs: IDLE_MS, pollMs: 100, sessionCheckMs: 300 },
    },
  }));
}, 60_000);

afterAll(async () => {
  await close?.();
});

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of the API
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await stack.handlers.api(proxyEvent(method, `/api/v1${path}`, body));
  return { status: r.statusCode, body: JSON.parse(r.body) };
}

async function attach(algorithmName: string): Promise<DebugSessionView> {
  const r = await api('POST', '/debug/attach', { algorithmName });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

/** The next task, asking again as the CLI does (each long poll ≤ 15 s) until `withinMs` passed. */
async function lease(sessionId: string, waitMs = 15_000, withinMs = 60_000): Promise<DebugTask> {
  const end = Date.now() + withinMs;
  for (;;) {
    const r = await api('POST', '/debug/lease', { sessionId, waitMs });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    if (r.body.task) return r.body.task;
    expect(Date.now(), 'no task came within the wait').toBeLessThan(end);
  }
}

async function finished(jobId: string, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const r = await api('GET', `/exec/results/${jobId}`);
    if (r.status === 200 && isJobFinal(r.body) && r.body.data) return r.body;
    if (Date.now() > end) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}

const byNode = (data: { nodeName: string; result?: unknown; batchIndex?: number }[], node: string) =>
  data.filter((d) => d.nodeName === node);

describe('debug sessions on the AWS backend (emulators)', () => {
  it('hands the debug node’s tasks to the session; its results and error complete the job', async () => {
    const s = await attach('echo');
    expect(s.sessionId).toMatch(/^debug-[0-9a-f]{16}$/);
    expect((await api('POST', '/debug/attach', { algorithmName: 'echo' })).status).toBe(409);
    expect((await api('GET', '/debug')).body).toMatchObject([
      { sessionId: s.sessionId, algorithmName: 'echo' },
    ]);

    const submitted = await api('POST', '/exec/raw', {
      name: 'aws-debugged',
      options: { batchTolerance: 50 },
      nodes: [
        { nodeName: 'plain', algorithmName: 'echo', input: ['on the workers'] },
        { nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: ['#[1...3]', '@plain'] },
      ],
    });
    expect(submitted.status).toBe(201);
    const { jobId } = submitted.body;
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const task = await lease(s.sessionId);
      expect(task).toMatchObject({ algorithmName: 'echo', info: { jobId, nodeName: 'dbg' } });
      const index = task.info.batchIndex as number;
      expect(task.input).toEqual([index, ['on the workers']]);
      seen.push(index);
      const report =
        index === 2
          ? { sessionId: s.sessionId, taskId: task.info.taskId, error: 'the developer says no' }
          : { sessionId: s.sessionId, taskId: task.info.taskId, result: { fromDebugger: index } };
      const r = await api('POST', '/debug/report', report);
      expect(r.body).toEqual({ taskId: task.info.taskId, accepted: true });
      // A second report of the same task is not the session's any more.
      expect((await api('POST', '/debug/report', report)).body.accepted).toBe(false);
    }
    expect(seen.sort()).toEqual([1, 2, 3]);
    const done = await finished(jobId);
    expect(done.status).toBe('completed');
    const dbg = byNode(done.data, 'dbg').sort((a, b) => (a.batchIndex ?? 0) - (b.batchIndex ?? 0));
    expect(dbg.map((d) => d.result)).toEqual([{ fromDebugger: 1 }, null, { fromDebugger: 3 }]);
    expect(JSON.stringify(dbg[1])).toContain('the developer says no');

    expect((await api('POST', '/debug/detach', { sessionId: s.sessionId })).body).toEqual({
      sessionId: s.sessionId,
      detached: true,
      returned: 0,
    });
    expect((await api('GET', '/debug')).body).toEqual([]);
    expect((await api('POST', '/debug/lease', { sessionId: s.sessionId })).status).toBe(404);
  }, 120_000);

  it('detaching mid-run gives the unfinished tasks back to the workers; the job completes', async () => {
    const s = await attach('echo');
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-detached',
      nodes: [{ nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: ['#[1...4]'] }],
    });
    const first = await lease(s.sessionId);
    expect(first.info.jobId).toBe(body.jobId);
    // Leased and not reported, and (once handed) the worker's other slot waiting: both come back.
    const listed = await api('GET', '/debug');
    expect(listed.body[0].running).toEqual([first.info.taskId]);
    const detached = await api('POST', '/debug/detach', { sessionId: s.sessionId });
    expect(detached.status).toBe(200);
    expect(detached.body.returned).toBeGreaterThanOrEqual(1);
    // The report of a task given back is refused: the session is gone.
    const late = await api('POST', '/debug/report', {
      sessionId: s.sessionId,
      taskId: first.info.taskId,
      result: 'too late',
    });
    expect(late.status).toBe(404);
    const done = await finished(body.jobId);
    expect(done.status).toBe('completed');
    expect(done.data.map((d: { result: unknown }) => d.result)).toEqual([[1], [2], [3], [4]]);
  }, 120_000);

  it('an input and a result over the inline limit travel through the blob bucket', async () => {
    const s = await attach('echo');
    const big = 'i'.repeat(INLINE_VALUE_LIMIT + 1);
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-debug-big',
      nodes: [{ nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: [big] }],
    });
    const task = await lease(s.sessionId);
    expect(task.input).toEqual([big]);
    const result = { big: 'r'.repeat(INLINE_VALUE_LIMIT + 1) };
    const r = await api('POST', '/debug/report', {
      sessionId: s.sessionId,
      taskId: task.info.taskId,
      result,
    });
    expect(r.body.accepted).toBe(true);
    const done = await finished(body.jobId);
    expect(done.data[0].result).toEqual(result);
    await api('POST', '/debug/detach', { sessionId: s.sessionId });
  }, 120_000);

  it('keepalive holds a session whose client runs a task longer than the idle limit', async () => {
    const s = await attach('echo');
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-paused',
      nodes: [{ nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: ['x'] }],
    });
    const task = await lease(s.sessionId);
    // Stopped at a breakpoint for twice the idle limit, the client only keeps the session.
    for (let waited = 0; waited < 2 * IDLE_MS; waited += 1000) {
      await new Promise((r) => setTimeout(r, 1000));
      const kept = await api('POST', '/debug/keepalive', { sessionId: s.sessionId });
      expect(kept.body).toEqual({ sessionId: s.sessionId, attached: true });
    }
    const r = await api('POST', '/debug/report', {
      sessionId: s.sessionId,
      taskId: task.info.taskId,
      result: 'paused',
    });
    expect(r.body.accepted).toBe(true);
    const done = await finished(body.jobId);
    expect(done.data.map((d: { result: unknown }) => d.result)).toEqual(['paused']);
    await api('POST', '/debug/detach', { sessionId: s.sessionId });
    expect((await api('POST', '/debug/keepalive', { sessionId: s.sessionId })).status).toBe(404);
  }, 120_000);

  it('a session that stops asking expires: its tasks run on the workers', async () => {
    const s = await attach('echo');
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-expired',
      nodes: [{ nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: ['#[1...2]'] }],
    });
    const leased = await lease(s.sessionId);
    const started = Date.now();
    // Asks nothing more: after IDLE_MS the session is over and the worker runs both tasks.
    const done = await finished(body.jobId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(IDLE_MS - 500);
    expect(done.status).toBe('completed');
    expect(done.data.map((d: { result: unknown }) => d.result)).toEqual([[1], [2]]);
    expect((await api('GET', '/debug')).body).toEqual([]);
    const r = await api('POST', '/debug/report', {
      sessionId: s.sessionId,
      taskId: leased.info.taskId,
      result: 1,
    });
    expect(r.status).toBe(404);
    expect(r.body.error.type).toBe('DEBUG_SESSION_NOT_FOUND');
    // The algorithm is free again: a new session attaches.
    const again = await attach('echo');
    expect((await api('POST', '/debug/detach', { sessionId: again.sessionId })).body.returned).toBe(0);
  }, 120_000);

  it('a stop reaches a task a session holds; the same algorithm on a plain node runs on the workers', async () => {
    const s = await attach('sleep');
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-debug-stop',
      nodes: [
        { nodeName: 'normal', algorithmName: 'sleep', input: [10, 'normal'] },
        { nodeName: 'held', kind: 'debug', algorithmName: 'sleep', input: [10, 'held'] },
      ],
    });
    const task = await lease(s.sessionId);
    expect(task.info.nodeName).toBe('held');
    // Empty leases keep the session attached while the stop makes its way to the worker.
    const keepAlive = setInterval(() => void api('POST', '/debug/lease', { sessionId: s.sessionId }), 500);
    expect((await api('POST', '/exec/stop', { jobId: body.jobId })).status).toBe(200);
    const done = await finished(body.jobId).finally(() => clearInterval(keepAlive));
    expect(done.status).toBe('stopped');
    expect((await stack.engine.tasks.getTask(task.info.taskId))?.status).toBe('stopped');
    expect((await stack.engine.tasks.getTask(`${body.jobId}.normal`))?.result).toBe('normal');
    await api('POST', '/debug/detach', { sessionId: s.sessionId });
  }, 120_000);

  // The worker learns of the stop through its lease heartbeat, which used to read the task only
  // when SQS had accepted the visibility extension: the emulator often refuses the receipt
  // handle, and the stop never reached the held task.
  it('a stop takes a held task from its session, whose late report is refused', async () => {
    const s = await attach('sleep');
    const { body } = await api('POST', '/exec/raw', {
      name: 'aws-debug-stop-session',
      nodes: [{ nodeName: 'held', kind: 'debug', algorithmName: 'sleep', input: [10, 'held'] }],
    });
    const task = await lease(s.sessionId);
    const keepAlive = setInterval(() => void api('POST', '/debug/lease', { sessionId: s.sessionId }), 500);
    expect((await api('POST', '/exec/stop', { jobId: body.jobId })).status).toBe(200);
    await finished(body.jobId).finally(() => clearInterval(keepAlive));
    // The worker's lease heartbeat learns of the stop and takes the task from the session.
    const mine = async () => {
      // An empty lease keeps the session attached meanwhile.
      expect((await api('POST', '/debug/lease', { sessionId: s.sessionId, waitMs: 0 })).status).toBe(200);
      const listed = (await api('GET', '/debug')).body as DebugSessionView[];
      return listed.find((v) => v.sessionId === s.sessionId);
    };
    // Up to a minute: under a loaded full run the heartbeat that carries the stop comes late.
    for (let end = Date.now() + 60_000; Date.now() < end && (await mine())?.running.length !== 0; )
      await new Promise((res) => setTimeout(res, 200));
    expect((await mine())?.running).toEqual([]);
    const r = await api('POST', '/debug/report', {
      sessionId: s.sessionId,
      taskId: task.info.taskId,
      result: 1,
    });
    expect(r.body.accepted).toBe(false);
    await api('POST', '/debug/detach', { sessionId: s.sessionId });
  }, 120_000);

  it('`sluice debug ALGORITHM --endpoint URL` runs the tasks on this machine; Ctrl-C detaches', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sluice-debug-aws-'));
    const { child, out, err } = startSluice(['debug', 'echo', '--endpoint', stack.url as string], {
      env: sluiceEnv(home),
    });
    const exited = new Promise((r) => child.once('exit', r));
    try {
      for (let i = 0; i < 1200 && !err().includes('debug session'); i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(err()).toMatch(/debug session debug-\w+: tasks of algorithm echo's debug nodes run here/);
      const { body } = await api('POST', '/exec/raw', {
        name: 'aws-cli-debug',
        nodes: [{ nodeName: 'dbg', kind: 'debug', algorithmName: 'echo', input: ['#[1...2]'] }],
      });
      const done = await finished(body.jobId);
      expect(done.status).toBe('completed');
      expect(done.data.map((d: { result: unknown }) => d.result)).toEqual([[1], [2]]);
      // Both ran in the debug command, not on the worker.
      expect(out()).toMatch(
        new RegExp(`task ${body.jobId}\\.dbg\\.1 \\(job ${body.jobId}, node dbg item 1\\): succeeded`),
      );
      expect(out()).toMatch(
        new RegExp(`task ${body.jobId}\\.dbg\\.2 \\(job ${body.jobId}, node dbg item 2\\): succeeded`),
      );
      child.kill('SIGINT');
      await exited;
      expect(err()).toContain('detached');
      expect((await api('GET', '/debug')).body).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  }, 180_000);
});
