// How a job looks from the API: its status with per-node counts and overall progress.
import { isJobFinal, type JobState } from '../ports/job-state.ts';

export type JobStatusView = ReturnType<typeof jobStatusView>;

/**
 * How far a job got, in percent of its tasks that ran to an end (succeeded or failed). A node not
 * expanded yet (or never run) counts as one task (its size is unknown until its parents finish); a stopped task
 * did not run, so a stopped job shows where it stopped, not 100.
 */
export function taskProgress(job: JobState): number {
  if (job.status === 'completed') return 100;
  let ran = 0;
  let total = 0;
  for (const n of job.nodes.values()) {
    if (n.status === 'skipped') continue;
    ran += n.succeeded + n.failed;
    total += Math.max(n.total ?? n.created, n.created, n.created === 0 ? 1 : 0);
  }
  return total === 0 ? 0 : Math.min(99, Math.floor((ran / total) * 100));
}

/** Jobs the node's tasks started through the code API (HKube's start_algorithm and the like). */
function childrenOf(job: JobState, nodeName: string) {
  const children = (job.children ?? [])
    .filter((c) => c.parentNode === nodeName)
    .sort((a, b) => a.callIndex - b.callIndex);
  if (children.length === 0) return {};
  return {
    children: children.map((c) => ({ jobId: c.jobId, taskId: c.parentTaskId, callIndex: c.callIndex })),
  };
}

/** Tasks waiting and running now (of the whole job, and per node where known). */
export interface LiveCounts {
  queued: number;
  active: number;
  nodes?: Record<string, { queued: number; active: number }>;
}

/** The version of its algorithm a node runs, as the job recorded it (coordinator.ts). */
function versionOf(job: JobState, nodeName: string): { algorithmVersion?: string } {
  if (!job.algorithmVersions) return {};
  const algorithm = job.pipeline.nodes.find((p) => p.nodeName === nodeName)?.algorithmName;
  const version = algorithm === undefined ? undefined : job.algorithmVersions[algorithm];
  return version ? { algorithmVersion: version } : {};
}

export function jobStatusView(job: JobState, live?: LiveCounts) {
  const nodes = [...job.nodes.entries()].map(([nodeName, n]) => ({
    nodeName,
    status: n.status,
    batch: n.batch,
    total: n.total ?? n.created,
    succeeded: n.succeeded,
    failed: n.failed,
    stopped: n.stopped,
    retried: n.retried,
    ...(live?.nodes
      ? { queued: live.nodes[nodeName]?.queued ?? 0, running: live.nodes[nodeName]?.active ?? 0 }
      : {}),
    ...(n.reason ? { reason: n.reason } : {}),
    ...versionOf(job, nodeName),
    ...childrenOf(job, nodeName),
  }));
  const sum = (k: 'succeeded' | 'failed' | 'stopped' | 'retried') => nodes.reduce((a, n) => a + n[k], 0);
  const created = [...job.nodes.values()].reduce((a, n) => a + n.created, 0);
  const done = sum('succeeded') + sum('failed') + sum('stopped');
  return {
    jobId: job.jobId,
    pipelineName: job.pipeline.name,
    status: job.status,
    ...(job.paused && !isJobFinal(job) ? { paused: true } : {}),
    ...(job.reason ? { reason: job.reason } : {}),
    priority: job.pipeline.priority,
    createdAt: new Date(job.createdAt).toISOString(),
    ...(job.startedAt ? { startedAt: new Date(job.startedAt).toISOString() } : {}),
    ...(job.finishedAt ? { finishedAt: new Date(job.finishedAt).toISOString() } : {}),
    progress: taskProgress(job),
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
