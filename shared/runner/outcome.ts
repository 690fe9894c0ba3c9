// Builds the TaskOutcomes the pool reports, so every kind of failure reads the same way: a
// one-line headline, then the traceback / stack tail, then the tail of the task's stderr.
import { type TaskFailureType, taskFailure } from '../ports/task-failure.ts';
import type { TaskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome } from '../ports/task-runner.ts';
import { ERROR_STDERR_TAIL_LINES, ERROR_TRACE_TAIL_LINES } from './constants.ts';
import { failureOf } from './failure.ts';
import type { HostError, HostResponse, StopReason } from './types.ts';

export type FailedOutcome = Extract<TaskOutcome, { status: 'failed' }>;

export function formatError(headline: string, trace?: string, stderrTail: readonly string[] = []): string {
  const parts = [headline];
  if (trace) {
    const lines = trace.trimEnd().split('\n');
    const kept = lines.slice(-ERROR_TRACE_TAIL_LINES);
    if (kept.length < lines.length) kept.unshift(`  [... ${lines.length - kept.length} lines]`);
    parts.push(kept.join('\n'));
  }
  const tail = stderrTail.slice(-ERROR_STDERR_TAIL_LINES);
  if (tail.length) parts.push(`stderr (last ${tail.length} lines):\n${tail.join('\n')}`);
  return parts.join('\n');
}

/** An exception the algorithm raised. */
export function exceptionOutcome(
  err: HostError,
  logs: TaskLogs,
  stderrTail: readonly string[],
): FailedOutcome {
  const headline = `${err.type}: ${err.message}`;
  // Python's traceback ends with the exception line: it is already the headline.
  const lines = err.trace?.trimEnd().split('\n') ?? [];
  if (lines.at(-1)?.startsWith(`${err.type}:`)) lines.pop();
  const body = lines.join('\n');
  return {
    status: 'failed',
    error: formatError(headline, body, stderrTail),
    failure: failureOf({ ...err, message: headline }),
    crashed: false,
    logs,
  };
}

export function stoppedOutcome(
  reason: StopReason,
  timeoutMs: number | undefined,
  logs: TaskLogs,
): FailedOutcome {
  if (reason === 'timeout') {
    const error = `timed out: the task ran longer than its ttl (${timeoutMs} ms) and was killed`;
    return {
      status: 'failed',
      error,
      failure: taskFailure('timed-out', error),
      crashed: false,
      timedOut: true,
      logs,
    };
  }
  const error = 'stopped: the task was stopped before it finished';
  return {
    status: 'failed',
    error,
    failure: taskFailure('stopped', error),
    crashed: false,
    stopped: true,
    logs,
  };
}

export function crashedOutcome(
  headline: string,
  logs: TaskLogs,
  stderrTail: readonly string[],
): FailedOutcome {
  return {
    status: 'failed',
    error: formatError(headline, undefined, stderrTail),
    failure: taskFailure('crashed', headline),
    crashed: true,
    logs,
  };
}

export function failedOutcome(
  headline: string,
  logs: TaskLogs,
  stderrTail: readonly string[] = [],
  type: TaskFailureType = 'algorithm-error',
): FailedOutcome {
  return {
    status: 'failed',
    error: formatError(headline, undefined, stderrTail),
    failure: taskFailure(type, headline),
    crashed: false,
    logs,
  };
}

/** Parses one host response line; undefined if it is not one (the host is then broken). */
export function parseResponse(line: string): HostResponse | undefined {
  try {
    const value = JSON.parse(line) as HostResponse;
    return typeof value === 'object' && value !== null && typeof value.id === 'number' ? value : undefined;
  } catch {
    return undefined;
  }
}

export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}
