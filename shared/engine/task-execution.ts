// How the dispatcher runs a claimed task: a pipeline node's task waits for its sub-job
// (pipeline-node.ts), a debug node's task goes to its algorithm's debug session when one is
// attached (debug-hub.ts, stored-debug-sessions.ts), and every other task — or a debug task
// without a session, or whose session detached before reporting — runs on the task runner; then
// what the run reports.
import type { Pipeline, PipelineNode } from '../pipeline/types.ts';
import type { DebugRouting } from '../ports/debug-sessions.ts';
import { taskFailure } from '../ports/task-failure.ts';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import { isDebugNode } from './debug-hub.ts';
import type { TaskOutcomeReport } from './outcomes.ts';
import { noSubPipelines, type TaskChildWork } from './pipeline-node.ts';

export interface TaskExecutors {
  runner: TaskRunner;
  codeApi?: TaskChildWork;
  debug?: DebugRouting;
}

export async function runClaimedTask(
  x: TaskExecutors,
  pipeline: Pipeline,
  node: PipelineNode | undefined,
  spec: TaskSpec,
  signal: AbortSignal,
  lend: (waiting: boolean) => void,
  /** Called where the task leaves the dispatcher's count: synchronously before runner.run(). */
  handedOver: () => void,
): Promise<TaskOutcome> {
  if (node?.kind === 'pipeline') {
    handedOver();
    // Not an algorithm: the task waits for its sub-job, its slot lent meanwhile.
    if (!x.codeApi) return noSubPipelines();
    return x.codeApi.pipelineNode(spec.info, node, spec.input, signal, lend, spec.timeoutMs);
  }
  const debugged =
    x.debug && isDebugNode(pipeline, node)
      ? await x.debug.runIfDebugged(pipeline, node, spec, signal)
      : undefined;
  // No await between the two: the runner counts the task from its first line (TaskRunner.freeSlots).
  handedOver();
  return debugged ?? x.runner.run(spec, signal);
}

/**
 * What a finished run reports: the runner's outcome, or, when the run was stopped (a user's stop,
 * a ttl, a failing job: `stoppedBy` is the reason), a stop whatever the runner made of the abort.
 */
export function runReport(taskId: string, outcome: TaskOutcome, stoppedBy?: unknown): TaskOutcomeReport {
  const { logs } = outcome;
  if (stoppedBy !== undefined) {
    const error = outcome.status === 'failed' ? outcome.error : String(stoppedBy);
    const failure = taskFailure('stopped', outcome.status === 'failed' ? outcome.failure.message : error);
    return { taskId, status: 'failed', error, failure, logs };
  }
  if (outcome.status === 'succeeded') return { taskId, status: 'succeeded', result: outcome.result, logs };
  return { taskId, status: 'failed', error: outcome.error, failure: outcome.failure, logs };
}
