// The debug sessions of one engine process (ports/debug-sessions.ts): the dispatcher hands a debug
// node's task to the session attached to its algorithm instead of running it, and waits for the
// outcome the session reports. Sessions live in this process's memory (the engine of `sluice
// serve`, whose API and dispatcher share it): a session that detaches, or stops asking for longer
// than DEBUG_SESSION_IDLE_MS, gives its unfinished tasks back and they run on the normal workers.
import { randomBytes } from 'node:crypto';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Pipeline, PipelineNode } from '../pipeline/types.ts';
import type {
  DebugReport,
  DebugRouting,
  DebugSessions,
  DebugSessionView,
  DebugTask,
} from '../ports/debug-sessions.ts';
import { taskFailure } from '../ports/task-failure.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome, TaskSpec } from '../ports/task-runner.ts';

/** A session that has not asked for a task (or reported one) this long is detached. */
export const DEBUG_SESSION_IDLE_MS = 30_000;
/** The longest a lease waits for a task (below the idle limit, so a waiting client stays attached). */
export const MAX_DEBUG_LEASE_WAIT_MS = 20_000;

/** HKube's debug nodes: `kind: debug`, or a node listed in `options.debugOverride`. */
export function isDebugNode(pipeline: Pipeline, node: PipelineNode | undefined): boolean {
  if (!node) return false;
  return node.kind === 'debug' || (pipeline.options.debugOverride ?? []).includes(node.nodeName);
}

interface Handed {
  task: DebugTask;
  /** undefined: the session ended first (run the task normally). */
  settle(outcome: TaskOutcome | undefined): void;
}

interface Session {
  id: string;
  algorithmName: string;
  attachedAt: number;
  queue: Handed[];
  running: Map<string, Handed>;
  waiters: ((h: Handed | undefined) => void)[];
  idle?: NodeJS.Timeout;
}

/** The outcome of a task stopped while a session had it. */
export function stoppedOutcome(): TaskOutcome {
  const error = 'stopped while a debug session had it';
  return {
    status: 'failed',
    error,
    failure: taskFailure('stopped', error),
    crashed: false,
    stopped: true,
    logs: taskLogs(),
  };
}

/** The outcome a session reported: its result, or its error as the algorithm's failure. */
export function reportedOutcome(report: DebugReport): TaskOutcome {
  if (!('error' in report)) return { status: 'succeeded', result: report.result, logs: taskLogs() };
  const error = report.error;
  return {
    status: 'failed',
    error,
    failure: taskFailure('algorithm-error', error),
    crashed: false,
    logs: taskLogs(),
  };
}

export class DebugHub implements DebugSessions, DebugRouting {
  private sessions = new Map<string, Session>();
  private byAlgorithm = new Map<string, Session>();

  constructor(private readonly idleMs = DEBUG_SESSION_IDLE_MS) {}

  attached(algorithmName: string): boolean {
    return this.byAlgorithm.has(algorithmName);
  }

  attach(algorithmName: string): DebugSessionView {
    const other = this.byAlgorithm.get(algorithmName);
    if (other) {
      throw new ConflictError(
        `algorithm "${algorithmName}" has a debug session already (${other.id}); detach it first`,
        'DEBUG_SESSION_EXISTS',
      );
    }
    const s: Session = {
      id: `debug-${randomBytes(8).toString('hex')}`,
      algorithmName,
      attachedAt: Date.now(),
      queue: [],
      running: new Map(),
      waiters: [],
    };
    this.sessions.set(s.id, s);
    this.byAlgorithm.set(algorithmName, s);
    this.touch(s);
    return this.view(s);
  }

  /** run(), for a debug node's task whose algorithm has a session; undefined otherwise. */
  runIfDebugged(
    pipeline: Pipeline,
    node: PipelineNode | undefined,
    spec: TaskSpec,
    signal: AbortSignal,
  ): Promise<TaskOutcome | undefined> {
    if (!isDebugNode(pipeline, node) || !this.attached(spec.algorithm.name))
      return Promise.resolve(undefined);
    return this.run(spec, signal);
  }

  /**
   * The dispatcher's side: hands the task to its algorithm's session and resolves with the outcome
   * the session reports, a stopped outcome if `signal` fires first, or undefined if there is no
   * session or it ends before reporting (the caller runs the task normally).
   */
  run(spec: TaskSpec, signal: AbortSignal): Promise<TaskOutcome | undefined> {
    const s = this.byAlgorithm.get(spec.algorithm.name);
    if (!s) return Promise.resolve(undefined);
    const task: DebugTask = { info: spec.info, algorithmName: spec.algorithm.name, input: spec.input };
    return new Promise((resolve) => {
      const handed: Handed = {
        task,
        settle: (outcome) => {
          signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      const onAbort = () => {
        s.queue = s.queue.filter((h) => h !== handed);
        s.running.delete(task.info.taskId);
        handed.settle(stoppedOutcome());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const waiter = s.waiters.shift();
      if (waiter) {
        s.running.set(task.info.taskId, handed);
        waiter(handed);
      } else s.queue.push(handed);
    });
  }

  async lease(sessionId: string, waitMs: number): Promise<DebugTask | undefined> {
    const s = this.session(sessionId);
    this.touch(s);
    const next = s.queue.shift();
    if (next) {
      s.running.set(next.task.info.taskId, next);
      return next.task;
    }
    const handed = await new Promise<Handed | undefined>((resolve) => {
      const waiter = (h: Handed | undefined) => {
        clearTimeout(timer);
        resolve(h);
      };
      const timer = setTimeout(
        () => {
          s.waiters = s.waiters.filter((w) => w !== waiter);
          resolve(undefined);
        },
        Math.min(waitMs, MAX_DEBUG_LEASE_WAIT_MS),
      );
      s.waiters.push(waiter);
    });
    if (this.sessions.has(s.id)) this.touch(s);
    return handed?.task;
  }

  keepAlive(sessionId: string): void {
    this.touch(this.session(sessionId));
  }

  report(sessionId: string, report: DebugReport): boolean {
    const s = this.session(sessionId);
    this.touch(s);
    const handed = s.running.get(report.taskId);
    if (!handed) return false;
    s.running.delete(report.taskId);
    handed.settle(reportedOutcome(report));
    return true;
  }

  detach(sessionId: string): number {
    return this.end(this.session(sessionId));
  }

  list(): DebugSessionView[] {
    return [...this.sessions.values()].map((s) => this.view(s));
  }

  /** Ends every session (the engine closes): their tasks run normally or are left to recovery. */
  close(): void {
    for (const s of [...this.sessions.values()]) this.end(s);
  }

  private session(sessionId: string): Session {
    const s = this.sessions.get(sessionId);
    if (!s) throw new NotFoundError(`debug session ${sessionId} is not attached`, 'DEBUG_SESSION_NOT_FOUND');
    return s;
  }

  private end(s: Session): number {
    clearTimeout(s.idle);
    this.sessions.delete(s.id);
    if (this.byAlgorithm.get(s.algorithmName) === s) this.byAlgorithm.delete(s.algorithmName);
    const unfinished = [...s.queue, ...s.running.values()];
    s.queue = [];
    s.running.clear();
    for (const w of s.waiters.splice(0)) w(undefined);
    for (const h of unfinished) h.settle(undefined);
    return unfinished.length;
  }

  private touch(s: Session): void {
    clearTimeout(s.idle);
    s.idle = setTimeout(() => this.end(s), this.idleMs);
    s.idle.unref();
  }

  private view(s: Session): DebugSessionView {
    return {
      sessionId: s.id,
      algorithmName: s.algorithmName,
      attachedAt: new Date(s.attachedAt).toISOString(),
      running: [...s.running.keys()],
      waiting: s.queue.length,
    };
  }
}
