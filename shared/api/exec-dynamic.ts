// The REST operations of dynamic jobs (engine/dynamic-tasks.ts): start one, add tasks to it by
// key, wait for some of them, close it. `sluice make` speaks these, in-process or over HTTP.
import { ValidationError } from '../errors.ts';
import type { DynamicTaskRequest } from '../ports/dynamic-tasks.ts';
import type { ApiDeps } from './api-deps.ts';
import { obj, onlyFields, str } from './request-body.ts';

/** At most this many tasks per add request, this many awaited by one wait, and this long a wait (ms). */
export const MAX_DYNAMIC_TASKS_PER_REQUEST = 1000;
export const MAX_DYNAMIC_WAIT_TASKS = 5000;
export const MAX_DYNAMIC_WAIT_MS = 25_000;

export async function startDynamic(deps: ApiDeps, body: unknown) {
  const job = await deps.control.submit(obj(body, 'the pipeline'), {
    origin: { kind: 'api' },
    dynamic: true,
  });
  return { jobId: job.jobId, status: job.status };
}

export async function addDynamicTasks(deps: ApiDeps, jobId: string, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['nodeName', 'tasks'], 'the request');
  const nodeName = str(b, 'nodeName');
  if (!Array.isArray(b.tasks) || b.tasks.length === 0 || b.tasks.length > MAX_DYNAMIC_TASKS_PER_REQUEST) {
    throw new ValidationError(
      `tasks must be an array of 1 to ${MAX_DYNAMIC_TASKS_PER_REQUEST} {key, input}`,
      'tasks',
    );
  }
  const tasks: DynamicTaskRequest[] = b.tasks.map((t, i) => {
    const o = obj(t, `tasks[${i}]`);
    onlyFields(o, ['key', 'input'], `tasks[${i}]`);
    const key = str(o, 'key');
    if (!Array.isArray(o.input)) throw new ValidationError(`tasks[${i}].input must be an array`, 'input');
    return { key, input: o.input };
  });
  return { jobId, tasks: await deps.control.addDynamicTasks(jobId, nodeName, tasks) };
}

export async function waitDynamicTasks(deps: ApiDeps, jobId: string, body: unknown) {
  const b = obj(body, 'the request');
  onlyFields(b, ['taskIds', 'timeoutMs'], 'the request');
  const ids = b.taskIds;
  // The route's body schema (dynamic-routes.ts) already bounds the count at MAX_DYNAMIC_WAIT_TASKS.
  if (!Array.isArray(ids) || ids.length === 0 || ids.some((i) => typeof i !== 'string')) {
    throw new ValidationError('taskIds must be a non-empty array of task ids', 'taskIds');
  }
  const timeoutMs = b.timeoutMs === undefined ? 10_000 : b.timeoutMs;
  if (typeof timeoutMs !== 'number' || timeoutMs < 0 || timeoutMs > MAX_DYNAMIC_WAIT_MS) {
    throw new ValidationError(`timeoutMs must be a number from 0 to ${MAX_DYNAMIC_WAIT_MS}`, 'timeoutMs');
  }
  return { jobId, tasks: await deps.control.waitForDynamicTasks(jobId, ids as string[], timeoutMs) };
}

export async function closeDynamic(deps: ApiDeps, jobId: string, body: unknown) {
  const b = body === undefined ? {} : obj(body, 'the request');
  onlyFields(b, ['failed'], 'the request');
  if (b.failed !== undefined && typeof b.failed !== 'string') {
    throw new ValidationError('failed must be a string (why the client failed)', 'failed');
  }
  const job = await deps.control.closeDynamicJob(jobId, b.failed as string | undefined);
  return { jobId, status: job.status, ...(job.reason ? { reason: job.reason } : {}) };
}
