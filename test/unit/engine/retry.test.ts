// Retry policy decides by the failure's type and whether it is retryable.
import { describe, expect, it } from 'vitest';
import { shouldRetry } from '../../../shared/engine/retry.ts';
import type { RetryPolicy } from '../../../shared/pipeline/types.ts';
import { type TaskFailureType, taskFailure } from '../../../shared/ports/task-failure.ts';

const decide = (policy: RetryPolicy, type: TaskFailureType, retryable?: boolean, attempts = 1) =>
  shouldRetry(
    { policy, limit: 2 },
    attempts,
    taskFailure(type, 'x', retryable === undefined ? {} : { retryable }),
  );

describe('shouldRetry', () => {
  it('OnCrash retries crashes only; OnError everything else that is retryable', () => {
    expect(decide('OnCrash', 'crashed')).toBe(true);
    expect(decide('OnCrash', 'algorithm-error')).toBe(false);
    expect(decide('OnCrash', 'timed-out')).toBe(false);
    expect(decide('OnError', 'crashed')).toBe(false);
    expect(decide('OnError', 'algorithm-error')).toBe(true);
    expect(decide('OnError', 'timed-out')).toBe(true);
    expect(decide('OnError', 'io-failures')).toBe(true);
  });

  it('never retries what cannot succeed: invalid input, a stop, an error that says so', () => {
    for (const policy of ['OnError', 'Always', 'OnCrash', 'Never'] as const) {
      expect(decide(policy, 'invalid-input')).toBe(false);
      expect(decide(policy, 'stopped')).toBe(false);
      expect(decide(policy, 'io-failures', false)).toBe(false);
    }
    expect(decide('Always', 'crashed')).toBe(true);
    expect(decide('Always', 'io-failures')).toBe(true);
  });

  it('runs a task at most 1 + limit times', () => {
    expect(decide('Always', 'crashed', undefined, 2)).toBe(true);
    expect(decide('Always', 'crashed', undefined, 3)).toBe(false);
  });
});
