// The task operations of the REST API beyond HKube's: a job's task records filtered by node and
// status, and each task's captured stdout/stderr (the tails kept per task), so failed items can be
// inspected without reading the whole job.
import { NotFoundError, ValidationError } from '../errors.ts';
import type { TaskStatus } from '../ports/job-state.ts';
import type { TaskPageRecord, TaskRecord } from '../ports/tasks.ts';
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
  /** A page: at most this many tasks of the node... */
  limit?: string | undefined;
  /** ...after this batchIndex (the last of the previous page). */
  after?: string | undefined;
  /** `false`: without input, result and logs. */
  values?: string | undefined;
}

/** The largest page of tasks one request returns. */
export const TASK_PAGE_MAX = 5000;

function integerOf(value: string | undefined, field: string, min: number, rule: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) {
    throw new ValidationError(`${field} must be ${rule}, got "${value}"`, field);
  }
  return n;
}

/**
 * A job's tasks, optionally of one node, one batch item and one status; ordered by node and item.
 * With `limit` or `after` (or `item`), one node's tasks are read a page at a time from the store.
 */
export async function findTasks(
  deps: ApiDeps,
  jobId: string,
  q: TaskQuery,
): Promise<(TaskRecord | TaskPageRecord)[]> {
  const job = await getJob(deps, jobId);
  if (q.node !== undefined && !job.pipeline.nodes.some((n) => n.nodeName === q.node)) {
    throw new NotFoundError(`job ${jobId} has no node "${q.node}"`, 'NODE_NOT_FOUND');
  }
  if (q.status !== undefined && !TASK_STATUSES.includes(q.status as TaskStatus)) {
    throw new ValidationError(`status must be one of ${TASK_STATUSES.join(', ')}`, 'status');
  }
  const status = q.status as TaskStatus | undefined;
  const item = integerOf(q.item, 'item', 1, 'a batch index (an integer from 1)');
  const limit = integerOf(q.limit, 'limit', 1, `an integer from 1 to ${TASK_PAGE_MAX}`);
  if (limit !== undefined && limit > TASK_PAGE_MAX) {
    throw new ValidationError(
      `limit must be an integer from 1 to ${TASK_PAGE_MAX}, got "${q.limit}"`,
      'limit',
    );
  }
  const after = integerOf(q.after, 'after', 0, 'a batch index (an integer from 0)');
  if (q.values !== undefined && q.values !== 'true' && q.values !== 'false') {
    throw new ValidationError(`values must be true or false, got "${q.values}"`, 'values');
  }
  const summary = q.values === 'false';
  if (q.node !== undefined && (limit !== undefined || after !== undefined || item !== undefined)) {
    if (item !== undefined) {
      if ((after ?? 0) >= item) return [];
      const [t] = await deps.tasks.pageTasks(jobId, q.node, { after: item - 1, limit: 1, summary });
      return t && t.batchIndex === item && (!status || t.status === status) ? [t] : [];
    }
    return deps.tasks.pageTasks(jobId, q.node, {
      limit: limit ?? TASK_PAGE_MAX,
      ...(after !== undefined ? { after } : {}),
      ...(status ? { status } : {}),
      summary,
    });
  }
  if (limit !== undefined || after !== undefined) {
    throw new ValidationError('limit and after page the tasks of one node: give nodeName too', 'nodeName');
  }
  const order = job.pipeline.nodes.map((n) => n.nodeName);
  const found = (await deps.tasks.listTasks(jobId, q.node))
    .filter((t) => (item === undefined || t.batchIndex === item) && (!status || t.status === status))
    .sort(
      (a, b) =>
        order.indexOf(a.nodeName) - order.indexOf(b.nodeName) || (a.batchIndex ?? 0) - (b.batchIndex ?? 0),
    );
  return summary ? found.map(({ input: _i, result: _r, logs: _l, ...row }) => row) : found;
}

export async function taskLogs(deps: ApiDeps, jobId: string, q: TaskQuery) {
  const tasks = await findTasks(deps, jobId, q);
  return { jobId, tasks: tasks.map(logView) };
}

export function logView(t: TaskPageRecord): TaskLogView {
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
