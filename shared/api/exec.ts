// The exec operations of the REST API (HKube's /exec/*): start, stop, re-run and read jobs.
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { isJobFinal, type JobOrigin, type JobState, type JobStatus } from '../ports/job-state.ts';
import type { ApiDeps } from './api-deps.ts';
import { jobStatusView, type LiveCounts } from './job-views.ts';
import { obj, str } from './request-body.ts';

const JOB_STATUSES: JobStatus[] = ['pending', 'active', 'completed', 'failed', 'stopped'];

export async function getJob(deps: ApiDeps, jobId: string): Promise<JobState> {
  const job = await deps.jobs.getJob(jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
  return job;
}

export async function execRaw(deps: ApiDeps, body: unknown, origin: JobOrigin = { kind: 'api' }) {
  const job = await deps.control.submit(obj(body, 'the pipeline'), { origin });
  return { jobId: job.jobId, status: job.status };
}

export async function execStored(deps: ApiDeps, body: unknown, origin: JobOrigin = { kind: 'api' }) {
  const b = obj(body, 'the request');
  const name = str(b, 'name');
  // The request's own shape is checked before the lookup: a malformed request is 400 either way.
  for (const k of Object.keys(b)) {
    if (!['name', 'flowInput', 'options', 'priority', 'webhooks', 'tags'].includes(k)) {
      throw new ValidationError(
        `unknown field "${k}" in exec/stored (allowed: name, flowInput, options, priority, webhooks, tags)`,
        k,
      );
    }
  }
  if (
    b.flowInput !== undefined &&
    (typeof b.flowInput !== 'object' || b.flowInput === null || Array.isArray(b.flowInput))
  ) {
    throw new ValidationError('flowInput must be a JSON object', 'flowInput');
  }
  if (b.options !== undefined && (typeof b.options !== 'object' || b.options === null)) {
    throw new ValidationError('options must be a JSON object', 'options');
  }
  const stored = await deps.registry.getPipeline(name);
  if (!stored) throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
  const raw: Record<string, unknown> = { ...stored };
  if (b.webhooks !== undefined) raw.webhooks = b.webhooks;
  if (b.tags !== undefined) raw.tags = b.tags;
  const job = await deps.control.submit(raw, {
    ...(b.flowInput !== undefined ? { flowInput: b.flowInput as Record<string, unknown> } : {}),
    ...(b.options !== undefined ? { options: b.options as Record<string, unknown> } : {}),
    ...(b.priority !== undefined ? { priority: b.priority as number } : {}),
    origin,
  });
  return { jobId: job.jobId, status: job.status };
}

export async function stop(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  const jobId = str(b, 'jobId');
  const reason = typeof b.reason === 'string' ? b.reason : 'stopped by user';
  const job = await deps.control.stop(jobId, reason);
  return { jobId, status: job.status, reason: job.reason };
}

export async function rerun(deps: ApiDeps, body: unknown) {
  const jobId = str(obj(body, 'the request'), 'jobId');
  const old = await getJob(deps, jobId);
  const job = await deps.control.submit(old.pipeline, {
    origin: { kind: 'rerun', parentJobId: jobId },
  });
  return { jobId: job.jobId, status: job.status };
}

export async function caching(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  const jobId = str(b, 'jobId');
  const nodeName = str(b, 'nodeName');
  const job = await deps.control.submitCaching(jobId, nodeName);
  return { jobId: job.jobId, status: job.status };
}

export async function status(deps: ApiDeps, jobId: string) {
  const job = await getJob(deps, jobId);
  const live: LiveCounts = { queued: 0, active: 0, nodes: {} };
  if (!isJobFinal(job)) {
    for (const [name, c] of Object.entries(await deps.tasks.nodeCounts(jobId))) {
      live.queued += c.queued;
      live.active += c.active;
      live.nodes![name] = { queued: c.queued, active: c.active };
    }
  }
  return jobStatusView(job, live);
}

export async function results(deps: ApiDeps, jobId: string) {
  const job = await getJob(deps, jobId);
  const data = isJobFinal(job) ? await deps.jobs.getResults(jobId) : undefined;
  return {
    jobId,
    pipelineName: job.pipeline.name,
    status: job.status,
    ...(job.reason ? { error: job.reason } : {}),
    ...(job.finishedAt ? { timestamp: new Date(job.finishedAt).toISOString() } : {}),
    data: data ?? null,
  };
}

export async function executedPipeline(deps: ApiDeps, jobId: string): Promise<Pipeline> {
  return (await getJob(deps, jobId)).pipeline;
}

export async function jobs(deps: ApiDeps, query: Record<string, string | undefined>) {
  const status = query.status;
  if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
    throw new ValidationError(`status must be one of ${JOB_STATUSES.join(', ')}`, 'status');
  }
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw new ValidationError('limit must be an integer between 1 and 10000', 'limit');
  }
  const jobs = await deps.jobs.listJobs({
    ...(status ? { status: status as JobStatus } : {}),
    ...(query.pipelineName ? { pipelineName: query.pipelineName } : {}),
    limit,
  });
  // Times as ISO strings, as in exec/status.
  return jobs.map(({ createdAt, finishedAt, ...j }) => ({
    ...j,
    createdAt: new Date(createdAt).toISOString(),
    ...(finishedAt !== undefined ? { finishedAt: new Date(finishedAt).toISOString() } : {}),
  }));
}

export async function tasks(deps: ApiDeps, jobId: string, nodeName?: string) {
  await getJob(deps, jobId);
  return deps.tasks.listTasks(jobId, nodeName);
}
