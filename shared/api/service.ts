// Every operation of the REST API, over the engine's ports. The router (HTTP, API Gateway) and the
// CLI call these; neither re-implements one.

import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { validateAlgorithm, validatePipeline } from '../pipeline/index.ts';
import type { AlgorithmDefinition, Pipeline } from '../pipeline/types.ts';
import {
  isJobFinal,
  isNodeFinal,
  type JobOrigin,
  type JobState,
  type JobStatus,
} from '../ports/job-state.ts';
import type { JobStore } from '../ports/jobs.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { Registry } from '../ports/registry.ts';
import type { TaskStore } from '../ports/tasks.ts';

export interface CronControl {
  list(): Promise<{ name: string; pattern: string; enabled: boolean; nextRun?: string }[]>;
  /** Re-reads stored pipelines and (re)schedules their cron triggers. */
  refresh(): Promise<void>;
}

/** How the service starts and stops jobs (the engine's Coordinator). */
export interface JobControl {
  submit(
    raw: unknown,
    opts?: {
      flowInput?: Record<string, unknown>;
      options?: Record<string, unknown>;
      priority?: number;
      origin?: JobOrigin;
    },
  ): Promise<JobState>;
  submitCaching(jobId: string, nodeName: string): Promise<JobState>;
  stop(jobId: string, reason?: string): Promise<JobState>;
}

export interface ServiceDeps {
  jobs: JobStore;
  tasks: TaskStore;
  registry: Registry;
  control: JobControl;
  /** Algorithms built into the engine: their names cannot be registered. */
  builtins: ReadonlyMap<string, unknown>;
  notifier?: Notifier;
  cron?: CronControl;
  /** Told when stored algorithms change (the dispatcher caches definitions). */
  onAlgorithmsChanged?: () => void;
}

const JOB_STATUSES: JobStatus[] = ['pending', 'active', 'completed', 'failed', 'stopped'];

function obj(body: unknown, what: string): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ValidationError(`${what} must be a JSON object`, 'body');
  }
  return body as Record<string, unknown>;
}

function str(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0)
    throw new ValidationError(`${field} is required (a string)`, field);
  return v;
}

export type JobStatusView = ReturnType<typeof jobStatusView>;

export function jobStatusView(job: JobState, live?: { queued: number; active: number }) {
  const nodes = Object.entries(job.nodes).map(([nodeName, n]) => ({
    nodeName,
    status: n.status,
    batch: n.batch,
    total: n.total ?? n.created,
    succeeded: n.succeeded,
    failed: n.failed,
    stopped: n.stopped,
    retried: n.retried,
    ...(n.reason ? { reason: n.reason } : {}),
  }));
  const sum = (k: 'succeeded' | 'failed' | 'stopped' | 'retried') => nodes.reduce((a, n) => a + n[k], 0);
  const created = Object.values(job.nodes).reduce((a, n) => a + n.created, 0);
  const done = sum('succeeded') + sum('failed') + sum('stopped');
  const finishedNodes = Object.values(job.nodes).filter(isNodeFinal).length;
  const nodeCount = Object.keys(job.nodes).length;
  return {
    jobId: job.jobId,
    pipelineName: job.pipeline.name,
    status: job.status,
    ...(job.reason ? { reason: job.reason } : {}),
    priority: job.pipeline.priority,
    createdAt: new Date(job.createdAt).toISOString(),
    ...(job.startedAt ? { startedAt: new Date(job.startedAt).toISOString() } : {}),
    ...(job.finishedAt ? { finishedAt: new Date(job.finishedAt).toISOString() } : {}),
    progress:
      isJobFinal(job) && job.status === 'completed' ? 100 : Math.floor((finishedNodes / nodeCount) * 100),
    tasks: {
      created,
      remaining: created - done,
      queued: live?.queued ?? created - done,
      running: live?.active ?? 0,
      succeeded: sum('succeeded'),
      failed: sum('failed'),
      stopped: sum('stopped'),
      retried: sum('retried'),
    },
    nodes,
    ...(job.origin ? { origin: job.origin } : {}),
  };
}

export class SluiceService {
  constructor(readonly deps: ServiceDeps) {}

  private async job(jobId: string): Promise<JobState> {
    const job = await this.deps.jobs.getJob(jobId);
    if (!job) throw new NotFoundError(`job ${jobId} not found`, 'JOB_NOT_FOUND');
    return job;
  }

  async execRaw(body: unknown, origin: JobOrigin = { kind: 'api' }) {
    const job = await this.deps.control.submit(obj(body, 'the pipeline'), { origin });
    return { jobId: job.jobId, status: job.status };
  }

  async execStored(body: unknown, origin: JobOrigin = { kind: 'api' }) {
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
    const stored = await this.deps.registry.getPipeline(name);
    if (!stored) throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
    const raw: Record<string, unknown> = { ...stored };
    if (b.webhooks !== undefined) raw.webhooks = b.webhooks;
    if (b.tags !== undefined) raw.tags = b.tags;
    const job = await this.deps.control.submit(raw, {
      ...(b.flowInput !== undefined ? { flowInput: b.flowInput as Record<string, unknown> } : {}),
      ...(b.options !== undefined ? { options: b.options as Record<string, unknown> } : {}),
      ...(b.priority !== undefined ? { priority: b.priority as number } : {}),
      origin,
    });
    return { jobId: job.jobId, status: job.status };
  }

  async stop(body: unknown) {
    const b = obj(body, 'the request');
    const jobId = str(b, 'jobId');
    const reason = typeof b.reason === 'string' ? b.reason : 'stopped by user';
    const job = await this.deps.control.stop(jobId, reason);
    return { jobId, status: job.status, reason: job.reason };
  }

  async rerun(body: unknown) {
    const jobId = str(obj(body, 'the request'), 'jobId');
    const old = await this.job(jobId);
    const job = await this.deps.control.submit(old.pipeline, {
      origin: { kind: 'rerun', parentJobId: jobId },
    });
    return { jobId: job.jobId, status: job.status };
  }

  async caching(body: unknown) {
    const b = obj(body, 'the request');
    const jobId = str(b, 'jobId');
    const nodeName = str(b, 'nodeName');
    const job = await this.deps.control.submitCaching(jobId, nodeName);
    return { jobId: job.jobId, status: job.status };
  }

  async status(jobId: string) {
    const job = await this.job(jobId);
    let live = { queued: 0, active: 0 };
    if (!isJobFinal(job)) {
      for (const c of Object.values(await this.deps.tasks.nodeCounts(jobId))) {
        live = { queued: live.queued + c.queued, active: live.active + c.active };
      }
    }
    return jobStatusView(job, live);
  }

  async results(jobId: string) {
    const job = await this.job(jobId);
    const data = isJobFinal(job) ? await this.deps.jobs.getResults(jobId) : undefined;
    return {
      jobId,
      pipelineName: job.pipeline.name,
      status: job.status,
      ...(job.reason ? { error: job.reason } : {}),
      ...(job.finishedAt ? { timestamp: new Date(job.finishedAt).toISOString() } : {}),
      data: data ?? null,
    };
  }

  async executedPipeline(jobId: string): Promise<Pipeline> {
    return (await this.job(jobId)).pipeline;
  }

  async jobs(query: Record<string, string | undefined>) {
    const status = query.status;
    if (status !== undefined && !JOB_STATUSES.includes(status as JobStatus)) {
      throw new ValidationError(`status must be one of ${JOB_STATUSES.join(', ')}`, 'status');
    }
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) {
      throw new ValidationError('limit must be an integer between 1 and 10000', 'limit');
    }
    const jobs = await this.deps.jobs.listJobs({
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

  async tasks(jobId: string, nodeName?: string) {
    await this.job(jobId);
    return this.deps.tasks.listTasks(jobId, nodeName);
  }

  // ----------------------------------------------------------------------------- store
  async listPipelines() {
    return this.deps.registry.listPipelines();
  }
  async getPipeline(name: string) {
    const p = await this.deps.registry.getPipeline(name);
    if (!p) throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
    return p;
  }
  async putPipeline(body: unknown, mode: 'create' | 'update') {
    // A stored pipeline's flowInput may come with each run (exec stored, triggers' flowInput.parent).
    const p = validatePipeline(body, { checkFlowInput: false });
    await this.deps.registry.putPipeline(p, mode);
    await this.deps.cron?.refresh();
    return p;
  }
  async deletePipeline(name: string) {
    if (!(await this.deps.registry.deletePipeline(name))) {
      throw new NotFoundError(`pipeline "${name}" is not stored`, 'PIPELINE_NOT_FOUND');
    }
    await this.deps.cron?.refresh();
    return { name, deleted: true };
  }

  async listAlgorithms() {
    return this.deps.registry.listAlgorithms();
  }
  async getAlgorithm(name: string) {
    const a = await this.deps.registry.getAlgorithm(name);
    if (!a) throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
    return a;
  }
  async putAlgorithm(body: unknown, mode: 'create' | 'update' | 'upsert'): Promise<AlgorithmDefinition> {
    const a = validateAlgorithm(body);
    if (this.deps.builtins.has(a.name)) {
      throw new ConflictError(
        `"${a.name}" is a built-in algorithm; choose another name`,
        'BUILTIN_ALGORITHM',
      );
    }
    await this.deps.registry.putAlgorithm(a, mode);
    this.deps.onAlgorithmsChanged?.();
    return a;
  }
  async deleteAlgorithm(name: string) {
    if (!(await this.deps.registry.deleteAlgorithm(name))) {
      throw new NotFoundError(`algorithm "${name}" is not registered`, 'ALGORITHM_NOT_FOUND');
    }
    this.deps.onAlgorithmsChanged?.();
    return { name, deleted: true };
  }

  // ----------------------------------------------------------------------------- triggers
  async triggersTree() {
    const pipelines = await this.deps.registry.listPipelines();
    const childrenOf = (name: string, seen: Set<string>): unknown[] =>
      pipelines
        .filter((p) => p.triggers?.pipelines?.includes(name) && !seen.has(p.name))
        .map((p) => ({ name: p.name, children: childrenOf(p.name, new Set([...seen, p.name])) }));
    const triggered = new Set(pipelines.filter((p) => p.triggers?.pipelines?.length).map((p) => p.name));
    return pipelines
      .filter((p) => !triggered.has(p.name) && pipelines.some((c) => c.triggers?.pipelines?.includes(p.name)))
      .map((p) => ({ name: p.name, children: childrenOf(p.name, new Set([p.name])) }));
  }

  /** Cron triggers of stored pipelines; nextRun only where a scheduler runs (`sluice serve`). */
  async cronList() {
    if (this.deps.cron) return this.deps.cron.list();
    return (await this.deps.registry.listPipelines()).flatMap((p) => {
      const c = p.triggers?.cron;
      return c?.pattern ? [{ name: p.name, pattern: c.pattern, enabled: c.enabled }] : [];
    });
  }

  async cronSet(body: unknown, enabled: boolean) {
    const b = obj(body, 'the request');
    const name = str(b, 'name');
    const p = await this.getPipeline(name);
    const pattern = typeof b.pattern === 'string' ? b.pattern : p.triggers?.cron?.pattern;
    if (!pattern)
      throw new ValidationError(`pipeline "${name}" has no cron pattern; give one in "pattern"`, 'pattern');
    const updated = validatePipeline(
      { ...p, triggers: { ...p.triggers, cron: { pattern, enabled } } },
      { checkFlowInput: false },
    );
    await this.deps.registry.putPipeline(updated, 'update');
    await this.deps.cron?.refresh();
    return { name, pattern, enabled };
  }

  async webhooks(jobId: string, kind: 'progress' | 'result') {
    await this.job(jobId);
    return this.deps.notifier ? this.deps.notifier.deliveries(jobId, kind) : [];
  }
}
