// The task operations of the REST API beyond HKube's: a job's task records filtered by node and
// status, and each task's captured stdout/stderr (the tails kept per task), so failed items can be
// inspected without reading the whole job.
import { NotFoundError, ValidationError } from '../errors.ts';
import type { TaskStatus } from '../ports/job-state.ts';
import type { TaskRecord } from '../ports/tasks.ts';
import type { ApiDeps } from './api-deps.ts';
import { getJob } from './exec.ts';

const TASK_STATUSES: TaskStatus[] = ['queued', 'active', 'succeeded', 'failed', 'stopped'];

export interface TaskLogView {
  taskId: string;
  nodeName: string;
  batchIndex?: number;
  status: TaskStatus;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface TaskQuery {
  node?: string | undefined;
  item?: string | undefined;
  status?: string | undefined;
}

/** A job's tasks, optionally of one node, one batch item and one status; ordered by node and item. */
export async function findTasks(deps: ApiDeps, jobId: string, q: TaskQuery): Promise<TaskRecord[]> {
  const job = await getJob(deps, jobId);
  if (q.node !== undefined && !job.pipeline.nodes.some((n) => n.nodeName === q.node)) {
    throw new NotFoundError(`job ${jobId} has no node "${q.node}"`, 'NODE_NOT_FOUND');
  }
  if (q.status !== undefined && !TASK_STATUSES.includes(q.status as TaskStatus)) {
    throw new ValidationError(`status must be one of ${TASK_STATUSES.join(', ')}`, 'status');
  }
  const item = q.item === undefined ? undefined : Number(q.item);
  if (item !== undefined && (!Number.isInteger(item) || item < 1)) {
    throw new ValidationError(`item must be a batch index (an integer from 1), got "${q.item}"`, 'item');
  }
  const order = job.pipeline.nodes.map((n) => n.nodeName);
  return (await deps.tasks.listTasks(jobId, q.node))
    .filter((t) => (item === undefined || t.batchIndex === item) && (!q.status || t.status === q.status))
    .sort(
      (a, b) =>
        order.indexOf(a.nodeName) - order.indexOf(b.nodeName) || (a.batchIndex ?? 0) - (b.batchIndex ?? 0),
    );
}

export async function taskLogs(deps: ApiDeps, jobId: string, q: TaskQuery) {
  const tasks = await findTasks(deps, jobId, q);
  return { jobId, tasks: tasks.map(logView) };
}

export function logView(t: TaskRecord): TaskLogView {
  const lines = (ls: string[] | undefined) => (ls?.length ? `${ls.join('\n')}\n` : '');
  return {
    taskId: t.taskId,
    nodeName: t.nodeName,
    ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
    status: t.status,
    stdout: lines(t.logs?.stdout),
    stderr: lines(t.logs?.stderr),
    truncated: t.logs?.truncated ?? false,
  };
}
