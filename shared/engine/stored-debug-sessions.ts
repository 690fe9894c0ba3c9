// Debug sessions over records every process reads (ports/debug-records.ts): the AWS backend, where
// the API answers from stateless function invocations and tasks are claimed from SQS by workers.
// A worker whose dispatcher claims a debug node's task of an algorithm with a live session hands
// the task over (a record), keeps its queue lease alive as for any running task, and polls for the
// outcome the session's client reports through the API; if the session detaches or expires first,
// it runs the task itself. The outcome then goes the normal way (the status queue), so retries and
// exactly-once stay those of every task. The API's lease is a bounded long poll over the records.
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Pipeline, PipelineNode } from '../pipeline/types.ts';
import type { Clock } from '../ports/clock.ts';
import type {
  DebugRecords,
  DebugSessionRecord,
  HandedTask,
  HandedTaskSummary,
} from '../ports/debug-records.ts';
import type {
  DebugReport,
  DebugRouting,
  DebugSessions,
  DebugSessionView,
  DebugTask,
} from '../ports/debug-sessions.ts';
import type { TaskOutcome, TaskSpec } from '../ports/task-runner.ts';
import {
  DEBUG_SESSION_IDLE_MS,
  isDebugNode,
  MAX_DEBUG_LEASE_WAIT_MS,
  reportedOutcome,
  stoppedOutcome,
} from './debug-hub.ts';

export interface StoredDebugOptions {
  /** A session whose client asks nothing this long ends (default DEBUG_SESSION_IDLE_MS). */
  idleMs?: number;
  /** How often a lease looks for a task and a worker for its outcome (default 500 ms). */
  pollMs?: number;
  /** How far ahead a worker marks a handed task as held (default 15 s; renewed at a third). */
  holdMs?: number;
  /** How often a worker checks that the session it handed a task to is still there (default 2 s). */
  sessionCheckMs?: number;
}

/** Consecutive failed reads after which a worker stops waiting and runs the task itself. */
const MAX_POLL_ERRORS = 10;

export class StoredDebugSessions implements DebugSessions, DebugRouting {
  private readonly idleMs: number;
  private readonly pollMs: number;
  private readonly holdMs: number;
  private readonly sessionCheckMs: number;

  constructor(
    private readonly records: DebugRecords,
    private readonly clock: Clock,
    opts: StoredDebugOptions = {},
  ) {
    this.idleMs = opts.idleMs ?? DEBUG_SESSION_IDLE_MS;
    this.pollMs = opts.pollMs ?? 500;
    this.holdMs = opts.holdMs ?? 15_000;
    this.sessionCheckMs = opts.sessionCheckMs ?? 2000;
  }

  async attach(algorithmName: string): Promise<DebugSessionView> {
    const now = this.clock.now();
    const s: DebugSessionRecord = {
      sessionId: `debug-${randomBytes(8).toString('hex')}`,
      algorithmName,
      attachedAt: now,
      expiresAt: now + this.idleMs,
    };
    const other = await this.records.createSession(s, now);
    if (other) {
      throw new ConflictError(
        `algorithm "${algorithmName}" has a debug session already (${other.sessionId}); detach it first`,
        'DEBUG_SESSION_EXISTS',
      );
    }
    return view(s, []);
  }

  async lease(sessionId: string, waitMs: number): Promise<DebugTask | undefined> {
    const s = await this.session(sessionId);
    const name = s.algorithmName;
    const deadline = this.clock.now() + Math.min(waitMs, MAX_DEBUG_LEASE_WAIT_MS);
    if (!(await this.touch(s))) throw notAttached(sessionId);
    for (;;) {
      const now = this.clock.now();
      const waiting = (await this.records.listTasks(name))
        .filter((t) => t.sessionId === sessionId && t.state === 'waiting' && t.heldUntil > now)
        .sort((a, b) => a.handedAt - b.handedAt);
      for (const t of waiting) {
        const expect = { handId: t.handId, sessionId, states: ['waiting' as const] };
        if (!(await this.records.updateTask(name, t.taskId, expect, { state: 'leased' }))) continue;
        const handed = await this.records.getTask(name, t.taskId, true);
        if (handed?.task && handed.handId === t.handId) {
          await this.touch(s);
          return handed.task;
        }
      }
      if (now >= deadline) break;
      await pause(this.clock, Math.min(this.pollMs, deadline - now));
    }
    await this.touch(s); // a waiting client stays attached (a detach meanwhile ended it)
    return undefined;
  }

  async keepAlive(sessionId: string): Promise<void> {
    if (!(await this.touch(await this.session(sessionId)))) throw notAttached(sessionId);
  }

  async report(sessionId: string, report: DebugReport): Promise<boolean> {
    const s = await this.session(sessionId);
    await this.touch(s);
    const expect = { sessionId, states: ['leased' as const] };
    return this.records.updateTask(s.algorithmName, report.taskId, expect, { state: 'reported', report });
  }

  async detach(sessionId: string): Promise<number> {
    const s = await this.session(sessionId);
    if (!(await this.records.deleteSession(s.algorithmName, sessionId))) throw notAttached(sessionId);
    let returned = 0;
    for (const t of await this.unfinished(s)) {
      const expect = { sessionId, states: ['waiting' as const, 'leased' as const] };
      if (await this.records.updateTask(s.algorithmName, t.taskId, expect, { state: 'returned' })) returned++;
    }
    return returned;
  }

  async list(): Promise<DebugSessionView[]> {
    const now = this.clock.now();
    const live = (await this.records.listSessions()).filter((s) => s.expiresAt > now);
    return Promise.all(live.map(async (s) => view(s, await this.unfinished(s))));
  }

  async runIfDebugged(
    pipeline: Pipeline,
    node: PipelineNode | undefined,
    spec: TaskSpec,
    signal: AbortSignal,
  ): Promise<TaskOutcome | undefined> {
    if (!isDebugNode(pipeline, node)) return undefined;
    const name = spec.algorithm.name;
    const now = this.clock.now();
    let handed: HandedTask;
    try {
      const s = await this.records.getSession(name);
      if (!s || s.expiresAt <= now) return undefined;
      handed = {
        algorithmName: name,
        taskId: spec.info.taskId,
        handId: randomBytes(8).toString('hex'),
        sessionId: s.sessionId,
        state: 'waiting',
        handedAt: now,
        heldUntil: now + this.holdMs,
        task: { info: spec.info, algorithmName: name, input: spec.input },
      };
      const earlier = await this.records.putTask(handed, now);
      // A duplicate delivery of the task's message: wait for the hand-over its first claimer made.
      if (earlier) return this.outcomeOf(earlier, signal, false);
    } catch (err) {
      process.emitWarning(`debug: task ${spec.info.taskId} runs on the workers: ${(err as Error).message}`);
      return undefined;
    }
    return this.outcomeOf(handed, signal, true);
  }

  /**
   * Waits for the session's outcome of a handed task (undefined: run it here after all). The worker
   * that handed it (`own`) keeps it held, watches the session, and removes the record at the end.
   */
  private async outcomeOf(
    h: HandedTaskSummary,
    signal: AbortSignal,
    own: boolean,
  ): Promise<TaskOutcome | undefined> {
    const { algorithmName: name, taskId, handId } = h;
    let heldAt = this.clock.now();
    let checkedAt = heldAt;
    let errors = 0;
    for (;;) {
      await pause(this.clock, this.pollMs, signal);
      try {
        if (signal.aborted) {
          if (own) await this.records.deleteTask(name, taskId, handId).catch(() => false);
          return stoppedOutcome();
        }
        const t = await this.records.getTask(name, taskId);
        errors = 0;
        if (!t || t.handId !== handId) return undefined; // removed or replaced: not handed any more
        if (t.state === 'reported' && t.report) {
          if (own) await this.records.deleteTask(name, taskId, handId);
          return reportedOutcome(t.report);
        }
        if (t.state === 'returned') {
          if (own) await this.records.deleteTask(name, taskId, handId);
          return undefined;
        }
        const now = this.clock.now();
        if (!own) {
          if (t.heldUntil < now) return undefined; // the worker that handed it is gone
          continue;
        }
        if (now - checkedAt >= this.sessionCheckMs) {
          checkedAt = now;
          const s = await this.records.getSession(name);
          // Gone or expired: take the task back unless its outcome came in meanwhile.
          if (!s || s.sessionId !== h.sessionId || s.expiresAt <= now) {
            if (await this.records.deleteTask(name, taskId, handId, 'reported')) return undefined;
            continue;
          }
        }
        if (now - heldAt >= this.holdMs / 3) {
          heldAt = now;
          const expect = { handId, states: ['waiting' as const, 'leased' as const] };
          await this.records.updateTask(name, taskId, expect, { heldUntil: now + this.holdMs });
        }
      } catch (err) {
        if (++errors < MAX_POLL_ERRORS) continue;
        process.emitWarning(`debug: task ${taskId} runs on the workers: ${(err as Error).message}`);
        return undefined;
      }
    }
  }

  /** The session of this id, if it is live (NotFoundError otherwise). */
  private async session(sessionId: string): Promise<DebugSessionRecord> {
    const now = this.clock.now();
    const s = (await this.records.listSessions()).find((x) => x.sessionId === sessionId && x.expiresAt > now);
    if (!s) throw notAttached(sessionId);
    return s;
  }

  private touch(s: DebugSessionRecord): Promise<boolean> {
    const now = this.clock.now();
    return this.records.touchSession(s.algorithmName, s.sessionId, now + this.idleMs, now);
  }

  private async unfinished(s: DebugSessionRecord): Promise<HandedTaskSummary[]> {
    return (await this.records.listTasks(s.algorithmName)).filter(
      (t) => t.sessionId === s.sessionId && (t.state === 'waiting' || t.state === 'leased'),
    );
  }
}

function notAttached(sessionId: string): NotFoundError {
  return new NotFoundError(`debug session ${sessionId} is not attached`, 'DEBUG_SESSION_NOT_FOUND');
}

function view(s: DebugSessionRecord, tasks: HandedTaskSummary[]): DebugSessionView {
  return {
    sessionId: s.sessionId,
    algorithmName: s.algorithmName,
    attachedAt: new Date(s.attachedAt).toISOString(),
    running: tasks.filter((t) => t.state === 'leased').map((t) => t.taskId),
    waiting: tasks.filter((t) => t.state === 'waiting').length,
  };
}

/** Waits `ms` on `clock`, or until `signal` fires. */
function pause(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
