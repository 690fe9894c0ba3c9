// Why a task failed, as data: a `type` from a fixed taxonomy, a message, and whether running it
// again can help. It travels unchanged from the runner through every queue and store to the REST
// API, so retry policies decide by type and a user sees what failed (an IO built-in's summary
// with its per-item failures arrives as `details`).

export type TaskFailureType =
  /** The algorithm reported an error (exception, non-zero exit, bad output). */
  | 'algorithm-error'
  /** The process running the task died, or the worker holding it was lost. */
  | 'crashed'
  /** The task ran longer than its node ttl and was killed. */
  | 'timed-out'
  /** A stop, a pipeline ttl or a failing job ended it. */
  | 'stopped'
  /** The task's input (or the algorithm's definition) is not acceptable: running again cannot help. */
  | 'invalid-input'
  /** An IO built-in finished with failed items; `details` is its summary. */
  | 'io-failures';

export const TASK_FAILURE_TYPES: readonly TaskFailureType[] = [
  'algorithm-error',
  'crashed',
  'timed-out',
  'stopped',
  'invalid-input',
  'io-failures',
];

export interface TaskFailure {
  type: TaskFailureType;
  /** One line (or a few): what went wrong. The full text with traces stays in the task's `error`. */
  message: string;
  /** Whether another attempt can succeed; a retry policy never retries a non-retryable failure. */
  retryable: boolean;
  /** The error's machine-readable code, when it had one (e.g. IO_FAILURES). */
  code?: string;
  /** Structured facts, e.g. an IO built-in's summary with its per-item failures. */
  details?: unknown;
}

/** Whether a failure of this type can succeed when run again, unless the error says otherwise. */
export function retryableByDefault(type: TaskFailureType): boolean {
  return type !== 'invalid-input' && type !== 'stopped';
}

export function taskFailure(
  type: TaskFailureType,
  message: string,
  extra: { retryable?: boolean; code?: string; details?: unknown } = {},
): TaskFailure {
  return {
    type,
    message,
    retryable: extra.retryable ?? retryableByDefault(type),
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    ...(extra.details !== undefined ? { details: extra.details } : {}),
  };
}

/** A failure read back from a queue message or a stored record; undefined if it is not one. */
export function parseTaskFailure(value: unknown): TaskFailure | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const f = value as Partial<TaskFailure>;
  if (!TASK_FAILURE_TYPES.includes(f.type as TaskFailureType) || typeof f.message !== 'string')
    return undefined;
  return taskFailure(f.type as TaskFailureType, f.message, {
    ...(typeof f.retryable === 'boolean' ? { retryable: f.retryable } : {}),
    ...(typeof f.code === 'string' ? { code: f.code } : {}),
    ...(f.details !== undefined ? { details: f.details } : {}),
  });
}
