// Creating a job's tasks: a node's expansion (all its tasks, or the items a streaming node can
// take so far), one streaming item, and addTasks() — the one place tasks join a running job and
// become claimable. Expansion is idempotent (task ids are deterministic), so doing it again after
// a crash inserts nothing twice.
import { expandNode, expandStreamingItem, streamingParents } from '../pipeline/index.ts';
import type { Dag, TaskInput } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';
import type { QueuedTask } from '../ports/task-queue.ts';
import type { NewTask, TaskRecord } from '../ports/tasks.ts';
import type { ExpansionSplit, JobDriver } from './driver.ts';
import { newTasks, parentOutputs } from './node-outputs.ts';
import { streamSealed } from './readiness.ts';
import { taskIdentity } from './task-identity.ts';

/** A task record as the queue carries it (its first attempt). */
export const queuedTask = (t: NewTask | TaskRecord): QueuedTask => ({
  taskId: t.taskId,
  ...taskIdentity(t),
  input: t.input,
  attempt: 1,
});

/** Stores new tasks of a job and makes them claimable; tasks that exist already are left alone. */
export async function addTasks(d: JobDriver, jobId: string, tasks: NewTask[]): Promise<void> {
  if (tasks.length === 0) return;
  await d.ports.tasks.insertTasks(tasks);
  await d.ports.queue.enqueue(tasks.map(queuedTask));
  d.feed.publish({ type: 'tasksQueued', jobId, count: tasks.length });
}

/** Expands a node: creates its tasks and tells the job how many (or that the node is skipped). */
export async function expand(d: JobDriver, job: JobState, dag: Dag, node: string): Promise<void> {
  const at = () => d.ports.clock.now();
  const streaming = streamingParents(dag, node);
  const outputs = await parentOutputs(d.ports.tasks, job, dag, node);
  const ctx = { flowInput: job.pipeline.flowInput, outputs };
  if (streaming.length === 0) {
    let exp: ReturnType<typeof expandNode>;
    try {
      exp = expandNode(job.pipeline, dag, node, ctx);
    } catch (err) {
      // A bad reference at run time fails the node (and so the job) with the reason.
      return d.apply(job.jobId, {
        type: 'taskFinished',
        node,
        outcome: 'failed',
        error: `input of node ${node}: ${(err as Error).message}`,
        at: at(),
      });
    }
    if (exp.kind === 'skipped') {
      return d.apply(job.jobId, {
        type: 'expanded',
        node,
        created: 0,
        sealed: true,
        skipped: exp.reason,
        at: at(),
      });
    }
    const inputs = exp.kind === 'single' ? [exp.task] : exp.tasks;
    const split = d.expansionSplit;
    if (split && inputs.length > split.maxItems) return expandPart(d, job, node, inputs, split);
    const tasks = newTasks(job, node, inputs, at());
    await addTasks(d, job.jobId, tasks);
    return d.apply(job.jobId, { type: 'expanded', node, created: tasks.length, sealed: true, at: at() });
  }
  // Streaming: create every item whose parents' items already succeeded; seal once they are done.
  const indices = new Set<number>();
  for (const p of streaming) {
    const o = outputs.get(p);
    if (o?.kind === 'batch') for (const i of o.items) if (i.status === 'succeeded') indices.add(i.batchIndex);
  }
  const inputs: TaskInput[] = [];
  for (const k of [...indices].sort((a, b) => a - b)) {
    const t = expandStreamingItem(job.pipeline, dag, node, ctx, k);
    if (t) inputs.push(t);
  }
  await addTasks(d, job.jobId, newTasks(job, node, inputs, at()));
  const latest = (await d.ports.jobs.getJob(job.jobId)) ?? job;
  const sealed = streamSealed(latest.nodes, dag, node);
  const created = (await d.ports.tasks.nodeCounts(job.jobId))[node]?.created ?? 0;
  return d.apply(job.jobId, { type: 'expanded', node, created, sealed, at: at() });
}

/**
 * One part of a split expansion (see ExpansionSplit): the items from the node's checkpoint on, at
 * most `maxItems`, then the checkpoint moves past them and another invocation is asked for the
 * rest; the node's total is the whole batch from the first part on, and the last part seals it. A part repeated after a crash re-inserts nothing and
 * re-sends its messages (delivery is at least once; outcomes apply once per attempt).
 */
async function expandPart(
  d: JobDriver,
  job: JobState,
  node: string,
  inputs: TaskInput[],
  split: ExpansionSplit,
): Promise<void> {
  const at = () => d.ports.clock.now();
  const from = Math.min(job.nodes.get(node)?.expandedItems ?? 0, inputs.length);
  const to = Math.min(inputs.length, from + split.maxItems);
  await addTasks(d, job.jobId, newTasks(job, node, inputs.slice(from, to), at()));
  if (to === inputs.length) {
    return d.apply(job.jobId, { type: 'expanded', node, created: to, sealed: true, at: at() });
  }
  await d.apply(job.jobId, {
    type: 'expanded',
    node,
    created: to,
    sealed: false,
    through: to,
    total: inputs.length,
    at: at(),
  });
  await split.continue(job.jobId);
}

/** Creates a streaming node's item for parent item `batchIndex`, if every parent has it. */
export async function expandItem(
  d: JobDriver,
  job: JobState,
  dag: Dag,
  node: string,
  batchIndex: number,
): Promise<void> {
  const outputs = await parentOutputs(d.ports.tasks, job, dag, node);
  const ctx = { flowInput: job.pipeline.flowInput, outputs };
  const t = expandStreamingItem(job.pipeline, dag, node, ctx, batchIndex);
  if (!t) return;
  await addTasks(d, job.jobId, newTasks(job, node, [t], d.ports.clock.now()));
  const created = (await d.ports.tasks.nodeCounts(job.jobId))[node]?.created ?? 0;
  return d.apply(job.jobId, {
    type: 'expanded',
    node,
    created,
    sealed: false,
    at: d.ports.clock.now(),
  });
}
