// How a job looks from the API: its status with per-node counts and overall progress.
import { isJobFinal, isNodeFinal, type JobState } from '../ports/job-state.ts';

export type JobStatusView = ReturnType<typeof jobStatusView>;

/** Tasks waiting and running now (of the whole job, and per node where known). */
export interface LiveCounts {
  queued: number;
  active: number;
  nodes?: Record<string, { queued: number; active: number }>;
}

export function jobStatusView(job: JobState, live?: LiveCounts) {
  const nodes = Object.entries(job.nodes).map(([nodeName, n]) => ({
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
