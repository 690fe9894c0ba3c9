// Debugging one algorithm on a developer's machine (HKube's debug node): `sluice debug ALGORITHM`
// attaches a session to a running engine; the engine hands the session the tasks of that
// algorithm's debug nodes (`kind: debug`, or listed in `options.debugOverride`) instead of running
// them, and the session's client runs them and reports each outcome. Detaching (or a session that
// stops asking) gives every task it had not finished back to the normal workers.
import type { Pipeline, PipelineNode } from '../pipeline/types.ts';
import type { TaskInfo, TaskOutcome, TaskSpec } from './task-runner.ts';

/** A task as a debug session gets it: what the algorithm's wrapper would receive. */
export interface DebugTask {
  info: TaskInfo;
  algorithmName: string;
  input: unknown[];
}

export type DebugReport = { taskId: string; result: unknown } | { taskId: string; error: string };

export interface DebugSessionView {
  sessionId: string;
  algorithmName: string;
  attachedAt: string;
  /** Tasks handed to the session and not reported yet. */
  running: string[];
  /** Tasks waiting for the session to ask. */
  waiting: number;
}

/**
 * The API's side of the sessions: in one engine process (`sluice serve`: engine/debug-hub.ts), or
 * in records every process reads (AWS: engine/stored-debug-sessions.ts). Unknown sessions are a
 * NotFoundError.
 */
export interface DebugSessions {
  /** Attaches a session to `algorithmName` (ConflictError if one is attached already). */
  attach(algorithmName: string): DebugSessionView | Promise<DebugSessionView>;
  /** The next task for the session, waiting up to `waitMs` for one (undefined: none came). */
  lease(sessionId: string, waitMs: number): Promise<DebugTask | undefined>;
  /**
   * Keeps the session attached while its client runs a task (stopped at a breakpoint, say) and
   * asks for nothing else.
   */
  keepAlive(sessionId: string): void | Promise<void>;
  /** The outcome of a task the session leased; false if the task is no longer its own. */
  report(sessionId: string, report: DebugReport): boolean | Promise<boolean>;
  /** Ends the session; its unfinished tasks go back to the normal workers. Answers how many. */
  detach(sessionId: string): number | Promise<number>;
  list(): DebugSessionView[] | Promise<DebugSessionView[]>;
}

/** The dispatcher's side: where a claimed task of a debug node goes when its algorithm has a session. */
export interface DebugRouting {
  /**
   * The outcome the session reported for this task, a stopped outcome if `signal` fires first,
   * or undefined when the node is no debug node, its algorithm has no session, or the session
   * ends before reporting (the caller runs the task normally).
   */
  runIfDebugged(
    pipeline: Pipeline,
    node: PipelineNode | undefined,
    spec: TaskSpec,
    signal: AbortSignal,
  ): Promise<TaskOutcome | undefined>;
}
