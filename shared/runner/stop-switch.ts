// How the pool tells an executor to end a task early ('stop' = the caller's AbortSignal fired,
// 'timeout' = node ttl). One plain object per task: on the builtin fast path an AbortController
// plus EventTarget listeners per task cost more than the rest of the dispatch.
import type { StopReason } from './types.ts';

export class StopSwitch {
  reason?: StopReason;
  private listener?: (reason: StopReason) => void;

  /** Sets the one listener; it is called at once if the switch was already thrown. */
  onStop(listener: (reason: StopReason) => void): void {
    this.listener = listener;
    if (this.reason) listener(this.reason);
  }

  stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    this.listener?.(reason);
  }
}
