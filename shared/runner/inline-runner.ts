// A TaskRunner that runs built-in algorithms inside the engine process, `slots` at a time. Used
// by engine tests (deterministic, no processes) and where process isolation is not wanted.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { type Clock, systemClock } from '../ports/clock.ts';
import type { ObjectStores } from '../ports/object-store.ts';
import { taskFailure } from '../ports/task-failure.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import { errorFacts, failureOf } from './failure.ts';

export class InlineRunner implements TaskRunner {
  private running = 0;

  constructor(
    private readonly builtins: ReadonlyMap<string, BuiltinAlgorithm>,
    private readonly slots = 4,
    /** Times the node ttl (a FakeClock in tests). */
    private readonly clock: Clock = systemClock,
    /** Handed to the algorithms as ctx.objectStores (s3:// in cp/fetch), as the process host does. */
    private readonly objectStores?: ObjectStores,
  ) {}

  freeSlots(): number {
    return Math.max(0, this.slots - this.running);
  }

  async run(task: TaskSpec, signal: AbortSignal): Promise<TaskOutcome> {
    const lines: string[] = [];
    const logs = taskLogs(lines);
    const builtin = this.builtins.get(task.algorithm.name);
    if (!builtin) {
      const error = `no built-in algorithm "${task.algorithm.name}"`;
      return { status: 'failed', error, failure: taskFailure('invalid-input', error), crashed: false, logs };
    }
    this.running++;
    try {
      const stopped = new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      let timer: { cancel(): void } | undefined;
      const timeout =
        task.timeoutMs !== undefined
          ? new Promise<never>((_, reject) => {
              timer = this.clock.setTimeout(
                () =>
                  reject(
                    Object.assign(new Error(`timed out after ${task.timeoutMs} ms (node ttl)`), {
                      timedOut: true,
                    }),
                  ),
                task.timeoutMs as number,
              );
            })
          : undefined;
      const result = await Promise.race([
        builtin.run(task.input, {
          signal,
          env: process.env,
          log: (l) => lines.push(l),
          ...(this.objectStores ? { objectStores: this.objectStores } : {}),
        }),
        stopped,
        ...(timeout ? [timeout] : []),
      ]).finally(() => timer?.cancel());
      return { status: 'succeeded', result: result === undefined ? null : result, logs };
    } catch (err) {
      const e = err as Error & { crashed?: boolean; timedOut?: boolean };
      const error = e?.message ?? String(err);
      const failure = e?.crashed
        ? taskFailure('crashed', error)
        : e?.timedOut
          ? taskFailure('timed-out', error)
          : failureOf(errorFacts(err));
      return {
        status: 'failed',
        error,
        failure,
        crashed: e?.crashed === true,
        ...(e?.timedOut ? { timedOut: true } : {}),
        logs,
      };
    } finally {
      this.running--;
    }
  }

  async close(): Promise<void> {}
}
