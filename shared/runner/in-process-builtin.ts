// Runs a built-in marked `inProcess` (make-recipe) in the worker pool's own process: the same
// outcomes as through a builtin host (builtin_host.mjs), without the host's round trip.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome, TaskSpec } from '../ports/task-runner.ts';
import { errorFacts, failureOf } from './failure.ts';
import { formatError, stoppedOutcome } from './outcome.ts';
import type { StopSwitch } from './stop-switch.ts';

export async function runInProcess(
  builtin: BuiltinAlgorithm,
  task: TaskSpec,
  stop: StopSwitch,
  env: NodeJS.ProcessEnv,
  maxLogLines: number,
): Promise<TaskOutcome> {
  const lines: string[] = [];
  const controller = new AbortController();
  stop.onStop(() => controller.abort(new DOMException('stopped', 'AbortError')));
  const logs = () => taskLogs(lines.length > maxLogLines ? lines.slice(-maxLogLines) : lines);
  try {
    const result = await builtin.run(task.input, {
      signal: controller.signal,
      env,
      log: (line) => {
        lines.push(String(line));
        if (lines.length > 2 * maxLogLines) lines.splice(0, lines.length - maxLogLines);
      },
    });
    if (stop.reason) return stoppedOutcome(stop.reason, task.timeoutMs, logs());
    return { status: 'succeeded', result: result === undefined ? null : result, logs: logs() };
  } catch (err) {
    if (stop.reason) return stoppedOutcome(stop.reason, task.timeoutMs, logs());
    const facts = errorFacts(err);
    // As the host reports it: bad input says it all; anything else comes with its stack.
    const expected = facts.type === 'ValidationError' || facts.type === 'AbortError';
    const trace = expected ? undefined : (err as Error | undefined)?.stack;
    return {
      status: 'failed',
      error: formatError(`${builtin.name}: ${facts.type}: ${facts.message}`, trace),
      failure: failureOf(facts),
      crashed: false,
      logs: logs(),
    };
  }
}
