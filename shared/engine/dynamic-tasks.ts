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
  return taskIdAt(jobId, node, dynamicBatchIndex(key));
}

function taskIdAt(jobId: string, node: string, batchIndex: number): string {
  return `${jobId}.${node}.${batchIndex}`;
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
  const seen = new Set<string>();
  // Each key's index hashed once (a SHA-256 per key showed in make's profiles, five times over).
  const unique = requests
    .filter((r) => !seen.has(r.key) && seen.add(r.key))
    .map((r) => {
      const batchIndex = dynamicBatchIndex(r.key);
      return { ...r, batchIndex, taskId: taskIdAt(jobId, node, batchIndex) };
    });
  const fresh: typeof unique = [];
  // One batched read tells which keys name a task already (a retried request, or make's -B).
  const existing = new Map((await tasks.getTasks(unique.map((r) => r.taskId))).map((t) => [t.taskId, t]));
  for (const r of unique) {
    const { batchIndex, taskId } = r;
    const found = existing.get(taskId);
    if (!found) {
      fresh.push(r);
      continue;
    }
    if (JSON.stringify(found.input) !== JSON.stringify(r.input)) {
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
      taskId: r.taskId,
      jobId,
      nodeName: node,
      batchIndex: r.batchIndex,
      algorithmName: def.algorithmName,
      pipelineName: job.pipeline.name,
      priority: job.pipeline.priority,
      input: r.input,
      queuedAt: at,
    }));
    await addTasks(c, jobId, created);
    for (const { key, taskId, batchIndex } of fresh) refs.set(key, { key, taskId, batchIndex, added: true });
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
  const closed = await c.applyForState(jobId, {
    type: 'closed',
    created,
    ...(failed !== undefined ? { failed } : {}),
    at: c.ports.clock.now(),
  });
  // The last outcomes may have been counted while the close was under way (AWS: by the status
  // function, which then read the job still open and left finishing it to the close, while the
  // close had read the counts before them). Read again now that the close is saved: either this
  // sees them, or their own check sees the job closed.
  if (closed && !isJobFinal(closed)) await c.reconcile(jobId);
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
 * How often a wait reads its tasks again when no event of this process woke it (outcomes recorded
 * by another process: the AWS status function): a quarter of the time it has waited so far, within
 * these bounds, so short tasks are seen soon and long ones cost few reads.
 */
export const WAIT_POLL_MIN_MS = 50;
export const WAIT_POLL_MAX_MS = 500;

/**
 * Once this process's feed says an awaited task finished, the wait gathers those finishing within
 * this many ms more before it answers: tasks end in bursts under load, and each answer costs its
 * caller a new wait that reads every task it still awaits (`sluice make` -j 64: ~470 waits for
 * 2,000 recipes, ~300 with this, and 3% less CPU). Not when every awaited task has finished:
 * nothing is left to gather (a chain of one recipe after another waited 2 ms at each).
 */
export const WAIT_GATHER_MS = 2;

/**
 * Waits until at least one of `taskIds` is finished (or `timeoutMs` passed) and answers those that
 * are. The first look reads every awaited task in one batched read (`TaskStore.getTasks`); then
 * this process's feed says which of them finished (read only those), and a poll reads them all
 * again for outcomes recorded by other processes (the AWS status function).
 */
export async function waitForDynamicTasks(
  c: Coordinator,
  jobId: string,
  taskIds: string[],
  timeoutMs: number,
): Promise<DynamicTaskState[]> {
  const wanted = new Set(taskIds);
  const started = Date.now();
  const deadline = started + timeoutMs;
  // What the feed said since the last look: these tasks finished, or (`all`) look at every one.
  let woken = new Set<string>();
  let all = false;
  let wake: (() => void) | undefined;
  const note = (ids: string[] | 'all') => {
    if (ids === 'all') all = true;
    else for (const id of ids) if (wanted.has(id)) woken.add(id);
    if (all || woken.size) wake?.();
  };
  const offs = [
    c.feed.on('taskFinished', (e) => note([e.taskId])),
    c.feed.on('jobFinished', (e) => e.job.jobId === jobId && note('all')),
    c.feed.on('tasksAborted', (e) => note(e.taskIds)),
  ];
  const store = c.ports.tasks;
  // Each look reads only the statuses; whole records only of the finished tasks.
  const finished = async (seen: Pick<TaskRecord, 'taskId' | 'status'>[]): Promise<TaskRecord[]> => {
    const done = seen.filter((t) => FINAL.includes(t.status)).map((t) => t.taskId);
    if (done.length === 0) return [];
    return (await store.getTasks(done)).filter((t) => FINAL.includes(t.status));
  };
  try {
    const first = await store.taskStatuses([...wanted]);
    if (first.length < wanted.size) {
      const have = new Set(first.map((t) => t.taskId));
      const missing = [...wanted].find((id) => !have.has(id));
      throw new NotFoundError(`task ${missing} not found`, 'TASK_NOT_FOUND');
    }
    const other = first.find((t) => t.jobId !== jobId);
    if (other) throw new ValidationError(`task ${other.taskId} is not a task of job ${jobId}`, 'taskIds');
    let found = await finished(first);
    while (found.length === 0 && Date.now() < deadline) {
      const pollMs = Math.min(WAIT_POLL_MAX_MS, Math.max(WAIT_POLL_MIN_MS, (Date.now() - started) / 4));
      if (!all && woken.size === 0)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => note('all'), Math.min(pollMs, Math.max(0, deadline - Date.now())));
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      if (!all && woken.size < wanted.size)
        await new Promise((resolve) => setTimeout(resolve, WAIT_GATHER_MS));
      const ids = all ? [...wanted] : [...woken];
      all = false;
      woken = new Set();
      found = await finished(await store.taskStatuses(ids));
    }
    return found.map(view);
  } finally {
    for (const off of offs) off();
  }
}
