// HKube's code API as the runner sees it: an algorithm's `start(args, hkubeApi)` starts work of its
// own (an algorithm, a stored or a raw sub-pipeline) and waits for it. The engine implements the
// session (engine/code-api.ts); the runner's hosts relay the calls of the task they run.

/** One call of `hkubeApi` (Python `start_algorithm`, Node.js `startAlgorithm`, ...). */
export type CodeApiCall =
  | { op: 'algorithm'; name: string; input: unknown[] }
  | { op: 'stored'; name: string; flowInput?: Record<string, unknown> }
  | { op: 'raw'; descriptor: Record<string, unknown>; flowInput?: Record<string, unknown> };

/** What the waiting code gets: HKube's shapes, so a failed child is a value, never a crash. */
export type CodeApiResult = { response: unknown } | { error: string };

/** The calls of one task run. Every call is idempotent by the task id and its call index. */
export interface CodeApiSession {
  /**
   * Starts call number `index` (1, 2, ... in the order the code makes them, whatever the
   * attempt) unless that call of this task was started before, then resolves with its result.
   */
  call(index: number, call: CodeApiCall): Promise<CodeApiResult>;
  /** The task's code waits (true) or computes again (false): its worker slot is lent meanwhile. */
  lend(waiting: boolean): void;
}

/** The child work of a task, as its job records it (status views list it under the node). */
export interface ChildJobRef {
  jobId: string;
  parentNode: string;
  parentTaskId: string;
  callIndex: number;
}
