// Read-only job queries of the REST API beyond one job: search with filters, sort and cursor
// paging (/exec/search), the trigger tree of a job (/exec/tree), and the latest runs of a stored
// pipeline or of its cron trigger (/pipelines/{results,status}, /cron/{results,status}).
import { NotFoundError, ValidationError } from '../errors.ts';
import type { JobState, JobStatus } from '../ports/job-state.ts';
import type { JobSummary } from '../ports/jobs.ts';
import type { ApiDeps } from './api-deps.ts';
import { getJob, results, status } from './exec.ts';
import { limitOf, SEARCH_SCAN, statusFilter, timeOf } from './query-params.ts';

/** A job summary with ISO times, as exec/jobs and exec/search answer. */
export function summaryView({ createdAt, finishedAt, ...j }: JobSummary) {
  return {
    ...j,
    createdAt: new Date(createdAt).toISOString(),
    ...(finishedAt !== undefined ? { finishedAt: new Date(finishedAt).toISOString() } : {}),
  };
}

interface Cursor {
  createdAt: number;
  jobId: string;
}

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify([c.createdAt, c.jobId])).toString('base64url');

function decodeCursor(text: string): Cursor {
  try {
    const [createdAt, jobId] = JSON.parse(Buffer.from(text, 'base64url').toString()) as [number, string];
    if (typeof createdAt === 'number' && typeof jobId === 'string') return { createdAt, jobId };
  } catch {}
  throw new ValidationError('cursor is not one this API returned', 'cursor');
}

/** Oldest first by creation, ties by jobId; `desc` reverses. */
const compare = (a: Cursor, b: Cursor) =>
  a.createdAt - b.createdAt || (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0);

/** exec/jobs: jobs, newest first. */
export async function jobs(deps: ApiDeps, query: Record<string, string | undefined>) {
  const status = statusFilter(query.status);
  const limit = limitOf(query.limit, 100);
  const list = await deps.jobs.listJobs({
    ...(status ? { status } : {}),
    ...(query.pipelineName ? { pipelineName: query.pipelineName } : {}),
    limit,
  });
  return list.map(summaryView);
}

/** Jobs that match the filters, a page at a time: `cursor` from one answer asks for the next page. */
export async function search(deps: ApiDeps, query: Record<string, string | undefined>) {
  const wanted = statusFilter(query.status);
  const limit = limitOf(query.limit, 100, 1000);
  const from = timeOf(query.from, 'from');
  const to = timeOf(query.to, 'to');
  const sort = query.sort ?? 'desc';
  if (sort !== 'asc' && sort !== 'desc') throw new ValidationError('sort must be asc or desc', 'sort');
  const after = query.cursor ? decodeCursor(query.cursor) : undefined;
  const dir = sort === 'asc' ? 1 : -1;
  const found = (
    await deps.jobs.listJobs({
      ...(wanted ? { status: wanted } : {}),
      ...(query.pipelineName ? { pipelineName: query.pipelineName } : {}),
      limit: SEARCH_SCAN,
    })
  )
    .filter((j) => (from === undefined || j.createdAt >= from) && (to === undefined || j.createdAt <= to))
    .filter((j) => !after || dir * compare(j, after) > 0)
    .sort((a, b) => dir * compare(a, b));
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return {
    hits: page.map(summaryView),
    ...(found.length > limit && last ? { cursor: encodeCursor(last) } : {}),
  };
}

export interface JobTreeNode {
  jobId: string;
  pipelineName: string;
  status: JobStatus;
  createdAt: string;
  origin?: JobState['origin'];
  children: JobTreeNode[];
}

const TREE_DEPTH = 20;

/** The jobs this job's chain started: its root (following parentJobId up) and every descendant. */
export async function tree(deps: ApiDeps, jobId: string): Promise<JobTreeNode> {
  let root = await getJob(deps, jobId);
  const seen = new Set([root.jobId]);
  for (let up = root.origin?.parentJobId; up && !seen.has(up) && seen.size < TREE_DEPTH; ) {
    if (root.origin?.kind !== 'trigger' && root.origin?.kind !== 'pipeline') break;
    const parent = await deps.jobs.getJob(up);
    if (!parent) break;
    seen.add(parent.jobId);
    root = parent;
    up = parent.origin?.parentJobId;
  }
  return treeNode(deps, root, 0);
}

async function treeNode(deps: ApiDeps, job: JobState, depth: number): Promise<JobTreeNode> {
  const children = depth < TREE_DEPTH ? await childJobs(deps, job) : [];
  return {
    jobId: job.jobId,
    pipelineName: job.pipeline.name,
    status: job.status,
    createdAt: new Date(job.createdAt).toISOString(),
    ...(job.origin ? { origin: job.origin } : {}),
    children: await Promise.all(children.map((c) => treeNode(deps, c, depth + 1))),
  };
}

/**
 * Jobs started by this one: runs of the pipelines it triggers and of its sub-pipelines, created
 * after it, whose origin names it.
 */
async function childJobs(deps: ApiDeps, job: JobState): Promise<JobState[]> {
  const out: JobState[] = [];
  const ids = new Set<string>();
  // Sub-jobs of pipeline nodes and of the code API are listed in the job itself.
  for (const ref of job.children ?? []) {
    const child = ids.has(ref.jobId) ? undefined : await deps.jobs.getJob(ref.jobId);
    ids.add(ref.jobId);
    if (child) out.push(child);
  }
  const names = new Set<string>();
  for (const p of await deps.registry.listPipelines()) {
    if (p.triggers?.pipelines?.includes(job.pipeline.name)) names.add(p.name);
  }
  for (const n of job.pipeline.nodes) {
    if (n.kind === 'pipeline' && n.spec?.name) names.add(n.spec.name);
  }
  for (const name of names) {
    for (const s of await deps.jobs.listJobs({ pipelineName: name, limit: 1000 })) {
      if (s.createdAt < job.createdAt || ids.has(s.jobId)) continue;
      const child = await deps.jobs.getJob(s.jobId);
      if (child?.origin?.parentJobId === job.jobId) out.push(child);
    }
  }
  return out.sort((a, b) => a.createdAt - b.createdAt);
}

/**
 * The latest runs of a stored pipeline (or only those its cron trigger started), newest first,
 * as exec/results or exec/status answer for each.
 */
export async function latestRuns(
  deps: ApiDeps,
  name: string,
  query: Record<string, string | undefined>,
  what: 'results' | 'status',
  cronOnly: boolean,
) {
  const limit = limitOf(query.limit, 1, 100);
  const wanted = statusFilter(query.status);
  const listed = await deps.jobs.listJobs({
    pipelineName: name,
    ...(wanted ? { status: wanted } : {}),
    limit: cronOnly ? SEARCH_SCAN : limit,
  });
  if (listed.length === 0 && !(await deps.registry.getPipeline(name))) {
    throw new NotFoundError(`pipeline "${name}" is not stored and has no runs`, 'PIPELINE_NOT_FOUND');
  }
  const out: unknown[] = [];
  for (const s of listed) {
    if (out.length >= limit) break;
    if (cronOnly && (await deps.jobs.getJob(s.jobId))?.origin?.kind !== 'cron') continue;
    out.push(what === 'results' ? await results(deps, s.jobId) : await status(deps, s.jobId));
  }
  return out;
}
