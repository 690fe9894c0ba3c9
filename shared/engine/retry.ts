// Retry policy as data: whether a failed task runs again. `OnCrash` (default) retries only when
// the process running the task died; `OnError` only when the algorithm reported an error;
// `Always` both; `Never` neither. `limit` is the number of retries (as in HKube), so a task runs
// at most 1 + limit times.
import type { RetrySpec } from '../pipeline/types.ts';

export interface FailureFacts {
  crashed: boolean;
  /** Stopped by the user, a ttl, or a failing job: never retried. */
  stopped?: boolean;
  /** Node ttl exceeded: an error of the algorithm, not a crash. */
  timedOut?: boolean;
}

/** `attempts` is how many times the task has run, including the one that just failed. */
export function shouldRetry(policy: RetrySpec, attempts: number, failure: FailureFacts): boolean {
  if (failure.stopped) return false;
  if (attempts > policy.limit) return false;
  switch (policy.policy) {
    case 'Never':
      return false;
    case 'Always':
      return true;
    case 'OnCrash':
      return failure.crashed;
    case 'OnError':
      return !failure.crashed;
  }
}
