// A pipeline node's task (`kind: pipeline`, `spec: {name, flowInput?}`): runs the stored pipeline
// `spec.name` as a child job and answers its results as the task's result. The dispatcher runs it
// in place of an algorithm, on every backend. One child per task (a batch node: one per item),
// with an id derived from the task id, so a retried or recovered task finds the child it started
// instead of starting another. The child is listed in the parent's `children` (stopping the
// parent stops it) and gets no more than the parent's remaining ttl.
import { SluiceError } from '../errors.ts';
import { MAX_CHAIN_DEPTH } from '../pipeline/pipeline-cycles.ts';
import type { PipelineNode } from '../pipeline/types.ts';
import type { CodeApiSession } from '../ports/code-api.ts';
import { isJobFinal, type JobState } from '../ports/job-state.ts';
import { taskFailure } from '../ports/task-failure.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskInfo, TaskOutcome } from '../ports/task-runner.ts';
import { childJobId, finishedJob, ownTtl, recordChildJob, remainingTtl } from './code-api.ts';
import type { Coordinator } from './coordinator.ts';
import { chainDepthOf } from './finish.ts';

/** What the dispatcher gets from the engine for the work a task starts (assembly.ts). */
export interface TaskChildWork {
  /** HKube's code API for the task's run (code-api.ts). */
  session(
    info: TaskInfo,
    ended: AbortSignal,
    lend: (waiting: boolean) => void,
  ): CodeApiSession & { starting(): Promise<void> };
  /** The task was stopped or timed out: the children it started stop too. */
  stopChildren(info: TaskInfo, reason: string): Promise<void>;
  /** Runs a pipeline node's task as a sub-job (runPipelineNode). */
  pipelineNode(
    info: TaskInfo,
    node: PipelineNode,
    input: unknown[],
    ended: AbortSignal,
    lend: (waiting: boolean) => void,
    timeoutMs?: number,
  ): Promise<TaskOutcome>;
}

/** The outcome of a pipeline node's task where no engine can start its sub-job. */
export function noSubPipelines(): TaskOutcome {
  return failed('this dispatcher has no engine to start sub-pipelines with', 'invalid-input');
}

/** The child's call index in the parent's `children` (a pipeline node's task starts one child). */
const CALL_INDEX = 1;

/**
 * The child's flowInput: `spec.flowInput` (else the stored pipeline's), with `input` set to the
 * task's resolved input when the node has one (so each item of a batch node gets its own value).
 */
export function subJobFlowInput(
  spec: NonNullable<PipelineNode['spec']>,
  stored: Record<string, unknown> | undefined,
  input: unknown[],
): Record<string, unknown> {
  const base = { ...(spec.flowInput ?? stored ?? {}) };
  return input.length > 0 ? { ...base, input } : base;
}

type Failed = Extract<TaskOutcome, { status: 'failed' }>;

function failed(error: string, type: 'invalid-input' | 'algorithm-error' | 'stopped' | 'timed-out'): Failed {
  return { status: 'failed', error, failure: taskFailure(type, error), crashed: false, logs: taskLogs() };
}

/** Submits the child job (nothing if it exists) and records it in the parent; answers its id. */
async function startSubJob(
  c: Coordinator,
  parent: JobState,
  caller: TaskInfo,
  node: PipelineNode,
  input: unknown[],
): Promise<string> {
  const spec = node.spec as NonNullable<PipelineNode['spec']>;
  const jobId = childJobId(caller.taskId, CALL_INDEX, spec.name);
  if (!(await c.ports.jobs.getJob(jobId))) {
    const stored = await c.ports.registry.getPipeline(spec.name);
    if (!stored) throw new SluiceError(`pipeline "${spec.name}" is not stored`, 'PIPELINE_NOT_FOUND');
    const raw = { ...stored } as unknown as Record<string, unknown>;
    const ttlLeft = remainingTtl(parent, c.ports.clock.now());
    await c.submit(raw, {
      jobId,
      priority: parent.pipeline.priority,
      options: { ttl: Math.min(ttlLeft, ownTtl(raw) ?? ttlLeft) },
      flowInput: subJobFlowInput(spec, stored.flowInput, input),
      origin: {
        kind: 'pipeline',
        parentJobId: parent.jobId,
        parentTaskId: caller.taskId,
        parentNode: caller.nodeName,
        triggerDepth: chainDepthOf(parent) + 1,
      },
    });
  }
  await recordChildJob(c, parent, caller, jobId, CALL_INDEX);
  return jobId;
}

/**
 * Runs a pipeline node's task: starts (or finds) its child job, waits for it with the worker slot
 * lent, and answers the child's results, or a failure naming the child job and why it ended.
 */
export async function runPipelineNode(
  c: Coordinator,
  caller: TaskInfo,
  node: PipelineNode,
  input: unknown[],
  ended: AbortSignal,
  lend: (waiting: boolean) => void,
  timeoutMs?: number,
): Promise<TaskOutcome> {
  const name = node.spec?.name ?? '';
  const parent = await c.ports.jobs.getJob(caller.jobId);
  if (!parent || isJobFinal(parent)) return failed(`job ${caller.jobId} is no longer running`, 'stopped');
  if (chainDepthOf(parent) + 1 > MAX_CHAIN_DEPTH) {
    return failed(
      `sub-pipeline "${name}" not started: a chain of ${MAX_CHAIN_DEPTH} sub-pipelines and triggered jobs ends here (a cycle of pipelines?)`,
      'invalid-input',
    );
  }
  let jobId: string;
  try {
    jobId = await startSubJob(c, parent, caller, node, input);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return failed(`sub-pipeline "${name}" could not start: ${why}`, 'invalid-input');
  }
  // The node's ttl bounds the wait, as it bounds an algorithm's run.
  const timeout = timeoutMs !== undefined ? AbortSignal.timeout(timeoutMs) : undefined;
  const signal = timeout ? AbortSignal.any([ended, timeout]) : ended;
  lend(true);
  let job: JobState | undefined;
  try {
    job = await finishedJob(c, jobId, signal);
  } finally {
    lend(false);
  }
  if (!job && timeout?.aborted && !ended.aborted) {
    const error = `sub-pipeline "${name}" (job ${jobId}) did not finish within the node's ttl (${timeoutMs} ms)`;
    return { ...failed(error, 'timed-out'), timedOut: true };
  }
  if (!job) return failed(`the task ended before sub-pipeline "${name}" (job ${jobId}) finished`, 'stopped');
  if (job.status !== 'completed') {
    return failed(
      `sub-pipeline "${name}" (job ${jobId}) ${job.status}${job.reason ? `: ${job.reason}` : ''}`,
      'algorithm-error',
    );
  }
  return { status: 'succeeded', result: (await c.ports.jobs.getResults(jobId)) ?? [], logs: taskLogs() };
}
