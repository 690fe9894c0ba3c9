// The close race of a dynamic job, staged on any backend: the status function (or the embedded
// outcome path) counted the last outcome and found the job still open, while the close read the
// job before that count. Until the close is saved, the coordinator's reads of the job miss the
// last count of `node`; then the job is closed as its client would.
import type { Coordinator } from '../../shared/engine/coordinator.ts';
import type { JobState } from '../../shared/ports/job-state.ts';

export async function closeMissingLastCount(c: Coordinator, jobId: string, node: string): Promise<JobState> {
  const jobs = c.ports.jobs;
  const getJob = jobs.getJob.bind(jobs);
  jobs.getJob = async (id: string): Promise<JobState | undefined> => {
    const state = await getJob(id);
    if (!state || state.dynamic?.closed) return state;
    const n = state.nodes.get(node);
    return n
      ? { ...state, nodes: state.nodes.withAll([[node, { ...n, succeeded: n.succeeded - 1 }]]) }
      : state;
  };
  try {
    return await c.closeDynamicJob(jobId);
  } finally {
    jobs.getJob = getJob;
  }
}
