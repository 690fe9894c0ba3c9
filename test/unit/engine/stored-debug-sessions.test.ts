// Debug sessions over shared records (engine/stored-debug-sessions.ts), on an in-memory
// DebugRecords with the same conditional semantics as the DynamoDB one: the cases the emulated AWS
// test (test/integration/aws/debug-aws.test.ts) cannot time, such as a duplicate delivery of a
// task's message and a worker lost while it holds a handed task.
import { describe, expect, it } from 'vitest';
import { StoredDebugSessions } from '../../../shared/engine/stored-debug-sessions.ts';
import { validatePipeline } from '../../../shared/pipeline/index.ts';
import { systemClock } from '../../../shared/ports/clock.ts';
import type {
  DebugRecords,
  DebugSessionRecord,
  HandedExpectation,
  HandedTask,
} from '../../../shared/ports/debug-records.ts';
import type { TaskSpec } from '../../../shared/ports/task-runner.ts';

class MemoryRecords implements DebugRecords {
  sessions = new Map<string, DebugSessionRecord>();
  tasks = new Map<string, HandedTask>();
  async createSession(s: DebugSessionRecord, now: number) {
    const other = this.sessions.get(s.algorithmName);
    if (other && other.expiresAt > now) return { ...other };
    this.sessions.set(s.algorithmName, { ...s });
    return undefined;
  }
  async getSession(name: string) {
    const s = this.sessions.get(name);
    return s && { ...s };
  }
  async listSessions() {
    return [...this.sessions.values()].map((s) => ({ ...s }));
  }
  async touchSession(name: string, id: string, expiresAt: number, now: number) {
    const s = this.sessions.get(name);
    if (s?.sessionId !== id || s.expiresAt <= now) return false;
    s.expiresAt = expiresAt;
    return true;
  }
  async deleteSession(name: string, id: string) {
    if (this.sessions.get(name)?.sessionId !== id) return false;
    return this.sessions.delete(name);
  }
  async putTask(t: HandedTask, now: number) {
    const held = this.tasks.get(t.taskId);
    if (held && held.heldUntil >= now) return { ...held };
    this.tasks.set(t.taskId, structuredClone(t));
    return undefined;
  }
  async getTask(_name: string, taskId: string, withTask = false) {
    const t = this.tasks.get(taskId);
    if (!t) return undefined;
    const { task, ...rest } = structuredClone(t);
    return withTask ? { ...rest, task } : rest;
  }
  async listTasks() {
    return [...this.tasks.values()].map(({ task: _t, report: _r, ...rest }) => ({ ...rest }));
  }
  async updateTask(
    _name: string,
    taskId: string,
    e: HandedExpectation,
    set: Partial<Pick<HandedTask, 'state' | 'heldUntil' | 'report'>>,
  ) {
    const t = this.tasks.get(taskId);
    if (!t || !e.states.includes(t.state)) return false;
    if (
      (e.handId !== undefined && t.handId !== e.handId) ||
      (e.sessionId !== undefined && t.sessionId !== e.sessionId)
    )
      return false;
    Object.assign(t, set);
    return true;
  }
  async deleteTask(_name: string, taskId: string, handId: string, unless?: string) {
    const t = this.tasks.get(taskId);
    if (!t || t.handId !== handId || t.state === unless) return false;
    return this.tasks.delete(taskId);
  }
}

const pipeline = validatePipeline({
  name: 'p',
  nodes: [
    { nodeName: 'D', kind: 'debug', algorithmName: 'alg', input: [1] },
    { nodeName: 'N', algorithmName: 'alg', input: [1] },
  ],
});
const node = (name: string) => pipeline.nodes.find((n) => n.nodeName === name);
const spec = (taskId: string): TaskSpec => ({
  info: { jobId: 'j', taskId, nodeName: 'D', pipelineName: 'p' },
  algorithm: { name: 'alg', env: 'builtin' },
  input: [taskId],
});
const quick = { idleMs: 300, pollMs: 10, sessionCheckMs: 20, holdMs: 300 };

describe('StoredDebugSessions', () => {
  it('a plain node, or an algorithm without a session, runs on the workers (undefined)', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, quick);
    const signal = new AbortController().signal;
    expect(await d.runIfDebugged(pipeline, node('D'), spec('t1'), signal)).toBeUndefined();
    await d.attach('alg');
    expect(await d.runIfDebugged(pipeline, node('N'), spec('t1'), signal)).toBeUndefined();
    expect(records.tasks.size).toBe(0);
  });

  it('a duplicate delivery waits for the same hand-over: one lease, one report', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, quick);
    const s = await d.attach('alg');
    const signal = new AbortController().signal;
    const first = d.runIfDebugged(pipeline, node('D'), spec('t1'), signal);
    while (records.tasks.size === 0) await new Promise((r) => setTimeout(r, 5));
    const duplicate = d.runIfDebugged(pipeline, node('D'), spec('t1'), signal);
    const task = await d.lease(s.sessionId, 1000);
    expect(task?.info.taskId).toBe('t1');
    expect(await d.lease(s.sessionId, 50)).toBeUndefined(); // handed once
    expect(await d.report(s.sessionId, { taskId: 't1', result: 42 })).toBe(true);
    expect(await first).toMatchObject({ status: 'succeeded', result: 42 });
    // The same outcome, or (if the first claimer removed the record before it looked) a normal
    // run, as any duplicate delivery gets: never a second hand-over.
    const second = await duplicate;
    if (second !== undefined) expect(second).toMatchObject({ status: 'succeeded', result: 42 });
    expect(records.tasks.size).toBe(0);
  });

  it('a hand-over whose worker is gone is not leased, and the retried task replaces it', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, quick);
    const s = await d.attach('alg');
    records.tasks.set('t1', {
      algorithmName: 'alg',
      taskId: 't1',
      handId: 'lost',
      sessionId: s.sessionId,
      state: 'waiting',
      handedAt: Date.now() - 1000,
      heldUntil: Date.now() - 1,
      task: { info: spec('t1').info, algorithmName: 'alg', input: ['lost'] },
    });
    expect(await d.lease(s.sessionId, 50)).toBeUndefined();
    const retried = d.runIfDebugged(pipeline, node('D'), spec('t1'), new AbortController().signal);
    const task = await d.lease(s.sessionId, 1000);
    expect(task?.input).toEqual(['t1']);
    await d.report(s.sessionId, { taskId: 't1', error: 'no' });
    expect(await retried).toMatchObject({ status: 'failed', failure: { type: 'algorithm-error' } });
  });

  it('a session that stops asking ends: the worker takes the task back and a report is refused', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, quick);
    const s = await d.attach('alg');
    const run = d.runIfDebugged(pipeline, node('D'), spec('t1'), new AbortController().signal);
    expect((await d.lease(s.sessionId, 1000))?.info.taskId).toBe('t1');
    expect(await run).toBeUndefined(); // after idleMs without a request
    expect(records.tasks.size).toBe(0);
    await expect(d.report(s.sessionId, { taskId: 't1', result: 1 })).rejects.toThrow(/is not attached/);
    expect(await d.list()).toEqual([]);
    expect((await d.attach('alg')).sessionId).not.toBe(s.sessionId);
  });

  it('keepAlive keeps the session past the idle limit while its client runs a task', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, { ...quick, idleMs: 1000 });
    const s = await d.attach('alg');
    const run = d.runIfDebugged(pipeline, node('D'), spec('t1'), new AbortController().signal);
    await d.lease(s.sessionId, 1000);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 300));
      await d.keepAlive(s.sessionId);
    }
    expect(await d.report(s.sessionId, { taskId: 't1', result: 'after a long pause' })).toBe(true);
    expect(await run).toMatchObject({ status: 'succeeded', result: 'after a long pause' });
    await d.detach(s.sessionId);
    await expect(d.keepAlive(s.sessionId)).rejects.toThrow(/is not attached/);
  });

  it('a stop while the session has the task ends it as stopped and removes the hand-over', async () => {
    const records = new MemoryRecords();
    const d = new StoredDebugSessions(records, systemClock, quick);
    const s = await d.attach('alg');
    const stop = new AbortController();
    const run = d.runIfDebugged(pipeline, node('D'), spec('t1'), stop.signal);
    await d.lease(s.sessionId, 1000);
    expect((await d.list())[0]).toMatchObject({ running: ['t1'], waiting: 0 });
    stop.abort();
    expect(await run).toMatchObject({ status: 'failed', stopped: true });
    expect(records.tasks.size).toBe(0);
    expect(await d.report(s.sessionId, { taskId: 't1', result: 1 })).toBe(false);
    expect(await d.detach(s.sessionId)).toBe(0);
  });
});
