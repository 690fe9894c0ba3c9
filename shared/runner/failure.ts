// Where an error becomes a typed TaskFailure: the one mapping of what a task threw (in a builtin
// host, a hot process, or in-process) to a failure type. An IO built-in's IoFailuresError keeps
// its code, its `retryable` and its summary (per-item failures) as `details`; a ValidationError is
// invalid input (never retried); an error that says whether it is retryable is believed.
import { type TaskFailure, type TaskFailureType, taskFailure } from '../ports/task-failure.ts';

/** An error as it crosses a process boundary (HostError) or as thrown in-process. */
export interface ErrorFacts {
  /** The error's class name (`err.name`, or the host's `type`). */
  type?: string;
  message: string;
  code?: unknown;
  retryable?: unknown;
  /** Structured facts the error carries (IoFailuresError: its `summary`). */
  details?: unknown;
}

function typeOf(e: ErrorFacts): TaskFailureType {
  if (e.type === 'ValidationError' || e.code === 'VALIDATION_ERROR') return 'invalid-input';
  if (e.type === 'IoFailuresError' || e.code === 'IO_FAILURES') return 'io-failures';
  if (e.type === 'AbortError') return 'stopped';
  return 'algorithm-error';
}

export function failureOf(e: ErrorFacts): TaskFailure {
  const type = typeOf(e);
  return taskFailure(type, e.message, {
    // Only errors that carry a code (SluiceError and its kind) decided `retryable` on purpose.
    ...(typeof e.retryable === 'boolean' && typeof e.code === 'string' && type !== 'invalid-input'
      ? { retryable: e.retryable }
      : {}),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(e.details !== undefined ? { details: e.details } : {}),
  });
}

/** The facts of a thrown value (in-process runs). */
export function errorFacts(err: unknown): ErrorFacts {
  if (!(err instanceof Error)) return { type: typeof err, message: String(err) };
  const e = err as Error & { code?: unknown; retryable?: unknown; summary?: unknown; details?: unknown };
  return {
    type: e.name,
    message: e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(e.retryable !== undefined ? { retryable: e.retryable } : {}),
    ...((e.summary ?? e.details) !== undefined ? { details: e.summary ?? e.details } : {}),
  };
}
