// The exec operations of the REST API (HKube's /exec/*): start, stop, re-run and read jobs.
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Pipeline } from '../pipeline/types.ts';
import { isJobFinal, type JobOrigin, type JobState, type JobStatus } from '../ports/job-state.ts';
import type { ApiDeps } from './api-deps.ts';
import { jobStatusView, type LiveCounts } from './job-views.ts';
import { SEARCH_SCAN, timeOf } from './query-params.ts';
import { obj, str } from './request-body.ts';

/** How old the node counts of a status view may be (a store may reuse the read of the job's own). */
const STATUS_COUNTS_MAX_AGE_MS = 250;

export async function getJob(deps: ApiDeps, jobId: string): Promise<JobState> {
  const job = await deps.jobs.getJob(jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
  return job;
}

/** `jobId`: the caller's own id for the run (a duplicate of an event that started it conflicts). */
export interface ExecOptions {
  jobId?: string;
}

export async function execRaw(
  deps: ApiDeps,
  body: unknown,
  origin: JobOrigin = { kind: 'api' },
  opts: ExecOptions = {},
) {
  const job = await deps.control.submit(obj(body, 'the pipeline'), { origin, ...opts });
  return { jobId: job.jobId, status: job.status };
}

export async function execStored(
  deps: ApiDeps,
  body: unknown,
  origin: JobOrigin = { kind: 'api' },
  opts: ExecOptions = {},
) {
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
    ...opts,
  });
  return { jobId: job.jobId, status: job.status };
}

/**
 * Stops one job (`jobId`), or every unfinished job that matches all the filters given: a pipeline
 * name, a status (pending or active), a creation time range `startTime: {from, to}`.
 */
export async function stop(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  const reason = typeof b.reason === 'string' ? b.reason : 'stopped by user';
  const bulk = ['pipelineName', 'status', 'startTime'].filter((k) => b[k] !== undefined);
  if (b.jobId !== undefined) {
    if (bulk.length) {
      throw new ValidationError(`give jobId, or filters (${bulk.join(', ')}), not both`, bulk[0]);
    }
    const jobId = str(b, 'jobId');
    const job = await deps.control.stop(jobId, reason);
    return { jobId, status: job.status, reason: job.reason };
  }
  if (bulk.length === 0) {
    throw new ValidationError('give jobId, or at least one of pipelineName, status, startTime', 'jobId');
  }
  const wanted = b.status as JobStatus | undefined;
  if (wanted !== undefined && wanted !== 'pending' && wanted !== 'active') {
    throw new ValidationError('status must be pending or active (finished jobs cannot be stopped)', 'status');
  }
  const range = (b.startTime ?? {}) as { from?: string | number; to?: string | number };
  const from = timeOf(range.from === undefined ? undefined : String(range.from), 'startTime.from');
  const to = timeOf(range.to === undefined ? undefined : String(range.to), 'startTime.to');
  const candidates = await deps.jobs.listJobs({
    ...(typeof b.pipelineName === 'string' ? { pipelineName: b.pipelineName } : {}),
    ...(wanted ? { status: wanted } : {}),
    limit: SEARCH_SCAN,
  });
  const stopped: { jobId: string; status: string }[] = [];
  for (const j of candidates) {
    if (j.status !== 'pending' && j.status !== 'active') continue;
    if ((from !== undefined && j.createdAt < from) || (to !== undefined && j.createdAt > to)) continue;
    try {
      stopped.push({ jobId: j.jobId, status: (await deps.control.stop(j.jobId, reason)).status });
    } catch (err) {
      // Finished between the listing and the stop: nothing to stop.
      if (!(err instanceof ConflictError)) throw err;
    }
  }
  return { stopped, reason };
}

/** exec/pause and exec/resume: no new task of the job starts while paused; running ones finish. */
export async function setPaused(deps: ApiDeps, body: unknown, paused: boolean) {
  const jobId = str(obj(body, 'the request'), 'jobId');
  const job = await deps.control.setPaused(jobId, paused);
  return { jobId, status: job.status, paused: job.paused === true };
}

/** Runs one algorithm as a one-node job (HKube's exec/algorithm). */
export async function execAlgorithm(deps: ApiDeps, body: unknown) {
  const b = obj(body, 'the request');
  const name = str(b, 'name');
  const job = await deps.control.submit(
    {
      name,
      nodes: [{ nodeName: name, algorithmName: name, input: b.input ?? [] }],
      ...(b.flowInput !== undefined ? { flowInput: b.flowInput } : {}),
      ...(b.options !== undefined ? { options: b.options } : {}),
      ...(b.priority !== undefined ? { priority: b.priority } : {}),
    },
    { origin: { kind: 'api' } },
  );
  return { jobId: job.jobId, status: job.status };
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
  return statusOf(deps, await getJob(deps, jobId));
}

/** The status view of a job already read: its queued and running counts from the task store. */
export async function statusOf(deps: ApiDeps, job: JobState) {
  const jobId = job.jobId;
  const live: LiveCounts = { queued: 0, active: 0, nodes: {} };
  if (!isJobFinal(job)) {
    // The job was just read with its running nodes' tallies: a display reuses that read.
    for (const [name, c] of Object.entries(
      await deps.tasks.nodeCounts(jobId, { maxAgeMs: STATUS_COUNTS_MAX_AGE_MS }),
    )) {
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
