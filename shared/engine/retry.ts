// Retry policy as data: whether a failed task runs again, decided by the failure's type.
// `OnCrash` (default) retries only when the process running the task died; `OnError` only when
// the task itself failed (an algorithm error, a node ttl, failed IO items); `Always` both;
// `Never` neither. A failure that is not retryable (invalid input, a stop, an error that says so)
// is never retried. `limit` is the number of retries (as in HKube): a task runs at most
// 1 + limit times.
import type { RetrySpec } from '../pipeline/types.ts';
import type { TaskFailure } from '../ports/task-failure.ts';

/** `attempts` is how many times the task has run, including the one that just failed. */
export function shouldRetry(
  policy: RetrySpec,
  attempts: number,
  failure: Pick<TaskFailure, 'type' | 'retryable'>,
): boolean {
  if (failure.type === 'stopped' || !failure.retryable) return false;
  if (attempts > policy.limit) return false;
  switch (policy.policy) {
    case 'Never':
      return false;
    case 'Always':
      return true;
    case 'OnCrash':
      return failure.type === 'crashed';
    case 'OnError':
      return failure.type !== 'crashed';
  }
}
