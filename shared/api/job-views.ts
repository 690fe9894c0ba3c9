// How a job looks from the API: its status with per-node counts and overall progress.
import { isJobFinal, type JobState } from '../ports/job-state.ts';

export type JobStatusView = ReturnType<typeof jobStatusView>;

export function jobStatusView(job: JobState, live?: { queued: number; active: number }) {
  const nodes = [...job.nodes.entries()].map(([nodeName, n]) => ({
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
  const created = [...job.nodes.values()].reduce((a, n) => a + n.created, 0);
  const done = sum('succeeded') + sum('failed') + sum('stopped');
  const finishedNodes = job.nodes.finished;
  const nodeCount = job.nodes.size;
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
