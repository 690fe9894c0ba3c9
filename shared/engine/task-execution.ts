// How the dispatcher runs a claimed task: a pipeline node's task waits for its sub-job
// (pipeline-node.ts), a debug node's task goes to its algorithm's debug session when one is
// attached (debug-hub.ts, stored-debug-sessions.ts), and every other task — or a debug task
// without a session, or whose session detached before reporting — runs on the task runner.
import type { Pipeline, PipelineNode } from '../pipeline/types.ts';
import type { DebugRouting } from '../ports/debug-sessions.ts';
import type { TaskOutcome, TaskRunner, TaskSpec } from '../ports/task-runner.ts';
import { isDebugNode } from './debug-hub.ts';
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
