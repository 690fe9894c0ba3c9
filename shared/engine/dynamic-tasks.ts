// Dynamic ("open") jobs: a client adds tasks to a running job while it runs, each under a key of
// its own, and closes the job when it has no more. `sluice make` adds one task per recipe; HKube's
// code API (an algorithm starting another) is the next user. Adding is idempotent by key (the task
// id and batch index are derived from it, so any process finds the task a key names), and the job
// finishes once it is closed and its tasks are done.
import { createHash } from 'node:crypto';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { DynamicTaskRef, DynamicTaskRequest, DynamicTaskState } from '../ports/dynamic-tasks.ts';
import { isJobFinal, type JobState, type TaskStatus } from '../ports/job-state.ts';
import type { NewTask, TaskRecord } from '../ports/tasks.ts';
import type { Coordinator } from './coordinator.ts';
import { addTasks } from './expansion.ts';

/**
 * The batch index of `key`: 52 bits of its SHA-256, so the same key names the same task in every
 * process without a lookup table, and task ids keep the `<jobId>.<node>.<batchIndex>` shape the
 * stores key by. Two keys sharing one is detected (the stored input differs) and refused.
 */
export function dynamicBatchIndex(key: string): number {
  return Number.parseInt(createHash('sha256').update(key).digest('hex').slice(0, 13), 16) + 1;
}

export function dynamicTaskId(jobId: string, node: string, key: string): string {
  return `${jobId}.${node}.${dynamicBatchIndex(key)}`;
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
    const batchIndex = dynamicBatchIndex(r.key);
    const taskId = dynamicTaskId(jobId, node, r.key);
    const existing = await tasks.getTask(taskId);
    if (!existing) {
      fresh.push(r);
      continue;
    }
    if (JSON.stringify(existing.input) !== JSON.stringify(r.input)) {
      throw new ConflictError(
        `job ${jobId}: task key "${r.key}" is taken by a task with other input`,
        'DYNAMIC_KEY_TAKEN',
      );
    }
    refs.set(r.key, { key: r.key, taskId, batchIndex, added: false });
  }
  if (fresh.length > 0) {
    const at = clock.now();
    // Counted before the tasks exist, by a versioned write, so a close never misses them.
    const state = await c.applyForState(jobId, { type: 'tasksAdded', node, count: fresh.length, at });
    if (!state) await openJob(c, jobId); // closed or finished meanwhile: says which
    const created: NewTask[] = fresh.map((r) => ({
      taskId: dynamicTaskId(jobId, node, r.key),
      jobId,
      nodeName: node,
      batchIndex: dynamicBatchIndex(r.key),
      algorithmName: def.algorithmName,
      pipelineName: job.pipeline.name,
      priority: job.pipeline.priority,
      input: r.input,
      queuedAt: at,
    }));
    await addTasks(c, jobId, created);
    for (const t of created) {
      const key = fresh[created.indexOf(t)]!.key;
      refs.set(key, { key, taskId: t.taskId, batchIndex: t.batchIndex as number, added: true });
    }
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
