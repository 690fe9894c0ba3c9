// Debug sessions kept as records every process reads (the AWS backend, where the API answers from
// stateless functions and the tasks are claimed by workers elsewhere): one record per session,
// keyed by its algorithm, and one per task handed to a session, whose state the API and the
// worker holding the task move by conditional writes. The logic over them: engine/stored-debug-sessions.ts.
import type { DebugReport, DebugTask } from './debug-sessions.ts';

export interface DebugSessionRecord {
  sessionId: string;
  algorithmName: string;
  attachedAt: number;
  /** The session ends here unless its client asks again first (epoch ms). */
  expiresAt: number;
}

/**
 * waiting: handed, not leased yet; leased: the session's client runs it; reported: its outcome is
 * in; returned: the session detached before reporting (the worker runs it itself).
 */
export type HandedState = 'waiting' | 'leased' | 'reported' | 'returned';

/** A task handed to a session, as listed (without its input and outcome). */
export interface HandedTaskSummary {
  algorithmName: string;
  taskId: string;
  /** This hand-over (a task handed again, after a retry, gets another). */
  handId: string;
  sessionId: string;
  state: HandedState;
  handedAt: number;
  /** The worker holding the task moves this on; once past, the worker is gone (not leased). */
  heldUntil: number;
}

export interface HandedTask extends HandedTaskSummary {
  task: DebugTask;
  report?: DebugReport;
}

/** What a conditional change of a handed task expects to find. */
export interface HandedExpectation {
  handId?: string;
  sessionId?: string;
  states: HandedState[];
}

export interface DebugRecords {
  /** Stores the session unless a live one (expiresAt > now) has its algorithm: that one, then. */
  createSession(s: DebugSessionRecord, now: number): Promise<DebugSessionRecord | undefined>;
  getSession(algorithmName: string): Promise<DebugSessionRecord | undefined>;
  listSessions(): Promise<DebugSessionRecord[]>;
  /** Moves a live session's expiry; false if the algorithm's live session is not this one. */
  touchSession(algorithmName: string, sessionId: string, expiresAt: number, now: number): Promise<boolean>;
  deleteSession(algorithmName: string, sessionId: string): Promise<boolean>;
  /**
   * Hands a task over, unless a worker still holds an earlier hand-over of it (heldUntil > now: a
   * duplicate delivery of the task's message): that one, then. A stale one is replaced.
   */
  putTask(t: HandedTask, now: number): Promise<HandedTaskSummary | undefined>;
  /** A handed task; its `task` (the input, maybe a blob) only `withTask`. */
  getTask(
    algorithmName: string,
    taskId: string,
    withTask?: boolean,
  ): Promise<(HandedTaskSummary & { task?: DebugTask; report?: DebugReport }) | undefined>;
  listTasks(algorithmName: string): Promise<HandedTaskSummary[]>;
  /** Changes a handed task if it is as expected; false otherwise (or if it is gone). */
  updateTask(
    algorithmName: string,
    taskId: string,
    expect: HandedExpectation,
    set: { state?: HandedState; heldUntil?: number; report?: DebugReport },
  ): Promise<boolean>;
  /** Removes this hand-over, unless it is in state `unless`; false if it was not removed. */
  deleteTask(algorithmName: string, taskId: string, handId: string, unless?: HandedState): Promise<boolean>;
}
