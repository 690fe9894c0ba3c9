// Dynamic ("open") jobs: a client adds tasks to a running job while it runs, each under a key of
// its own, and closes the job when it has no more. `sluice make` adds one task per recipe; HKube's
// code API (an algorithm starting another) is the next user. Adding is idempotent by key (the task
// id is derived from it), batch indices are reserved by a versioned transition (so concurrent
// adders in several processes never share one), and the job finishes once it is closed and its
// tasks are done.
import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { DynamicTaskRef, DynamicTaskRequest, DynamicTaskState } from '../ports/dynamic-tasks.ts';
import { isJobFinal, type JobState, type TaskStatus } from '../ports/job-state.ts';
import type { NewTask, TaskRecord } from '../ports/tasks.ts';
import type { Coordinator } from './coordinator.ts';
import { addTasks } from './expansion.ts';

/** The task id of `key` in node `node` of job `jobId` (stable: the same key names the same task). */
export function dynamicTaskId(jobId: string, node: string, key: string): string {
  return `${jobId}.${node}.k${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

async function openJob(c: Coordinator, jobId: string): Promise<JobState> {
  const job = await c.ports.jobs.getJob(jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
  if (!job.dynamic) throw new ConflictError(`job ${jobId} is not a dynamic job`, 'JOB_NOT_DYNAMIC');
  if (isJobFinal(job)) throw new ConflictError(`job ${jobId} is already ${job.status}`, 'JOB_FINISHED');
  if (job.dynamic.closed) throw new ConflictError(`job ${jobId} is closed`, 'JOB_CLOSED');
  return job;
}

/** Adds tasks to node `node` of an open dynamic job; those whose key exists are left alone. */
export async function addDynamicTasks(
  c: Coordinator,
  jobId: string,
  node: string,
  requests: DynamicTaskRequest[],
): Promise<DynamicTaskRef[]> {
  const job = await openJob(c, jobId);
  const def = job.pipeline.nodes.find((n) => n.nodeName === node);
  if (!def) throw new ValidationError(`job ${jobId} has no node "${node}"`, 'nodeName');
  const { tasks, clock } = c.ports;
  const refs = new Map<string, DynamicTaskRef>();
  const fresh: DynamicTaskRequest[] = [];
  for (const r of requests) {
    if (refs.has(r.key) || fresh.some((f) => f.key === r.key)) continue;
    const taskId = dynamicTaskId(jobId, node, r.key);
    const existing = await tasks.getTask(taskId);
    if (existing) refs.set(r.key, { key: r.key, taskId, batchIndex: existing.batchIndex ?? 0, added: false });
    else fresh.push(r);
  }
  if (fresh.length > 0) {
    const at = clock.now();
    const state = await c.applyForState(jobId, { type: 'tasksAdded', node, count: fresh.length, at });
    if (!state) await openJob(c, jobId); // closed or finished meanwhile: says which
    const first = (state?.nodes[node]?.created ?? fresh.length) - fresh.length + 1;
    const created: NewTask[] = fresh.map((r, i) => ({
      taskId: dynamicTaskId(jobId, node, r.key),
      jobId,
      nodeName: node,
      batchIndex: first + i,
      algorithmName: def.algorithmName,
      pipelineName: job.pipeline.name,
      priority: job.pipeline.priority,
      input: r.input,
      queuedAt: at,
    }));
    await addTasks(c, jobId, created);
    fresh.forEach((r, i) => {
      refs.set(r.key, {
        key: r.key,
        taskId: dynamicTaskId(jobId, node, r.key),
        batchIndex: first + i,
        added: true,
      });
    });
  }
  return requests.map((r) => refs.get(r.key)!);
}

/**
 * Closes a dynamic job: it takes no more tasks and finishes when those it has are done. With
 * `failed` (the client's own run failed) it fails at once and stops what still runs.
 */
export async function closeDynamicJob(c: Coordinator, jobId: string, failed?: string): Promise<JobState> {
  await openJob(c, jobId);
  const counts = await c.ports.tasks.nodeCounts(jobId);
  const created: Record<string, number> = {};
  for (const [name, n] of Object.entries(counts)) created[name] = n.created;
  await c.apply(jobId, {
    type: 'closed',
    created,
    ...(failed !== undefined ? { failed } : {}),
    at: c.ports.clock.now(),
  });
  return (await c.ports.jobs.getJob(jobId)) as JobState;
}

const FINAL: readonly TaskStatus[] = ['succeeded', 'failed', 'stopped'];

function view(t: TaskRecord): DynamicTaskState {
  return {
    taskId: t.taskId,
    status: t.status,
    attempts: t.attempts,
    ...(t.result !== undefined ? { result: t.result } : {}),
    ...(t.error !== undefined ? { error: t.error } : {}),
    ...(t.failure !== undefined ? { failure: t.failure } : {}),
    ...(t.startedAt !== undefined ? { startedAt: t.startedAt } : {}),
    ...(t.finishedAt !== undefined ? { finishedAt: t.finishedAt } : {}),
  };
}

/**
 * Waits until at least one of `taskIds` is finished (or `timeoutMs` passed) and answers those that
 * are. Woken by this process's feed; a slow poll covers outcomes recorded by other processes.
 */
export async function waitForDynamicTasks(
  c: Coordinator,
  jobId: string,
  taskIds: string[],
  timeoutMs: number,
): Promise<DynamicTaskState[]> {
  const wanted = new Set(taskIds);
  const deadline = Date.now() + timeoutMs;
  const check = async () => {
    const out: DynamicTaskState[] = [];
    for (const id of wanted) {
      const t = await c.ports.tasks.getTask(id);
      if (!t) throw new NotFoundError(`task ${id} not found`, 'TASK_NOT_FOUND');
      if (t.jobId !== jobId) throw new ValidationError(`task ${id} is not a task of job ${jobId}`, 'taskIds');
      if (FINAL.includes(t.status)) out.push(view(t));
    }
    return out;
  };
  for (;;) {
    const found = await check();
    if (found.length > 0 || Date.now() >= deadline) return found;
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const offs: (() => void)[] = [];
      const wake = () => {
        clearTimeout(timer);
        for (const off of offs) off();
        resolve();
      };
      offs.push(c.feed.on('taskFinished', (e) => wanted.has(e.taskId) && wake()));
      offs.push(c.feed.on('jobFinished', (e) => e.job.jobId === jobId && wake()));
      offs.push(c.feed.on('tasksAborted', (e) => e.taskIds.some((id) => wanted.has(id)) && wake()));
      timer = setTimeout(wake, Math.min(500, Math.max(0, deadline - Date.now())));
    });
  }
}
