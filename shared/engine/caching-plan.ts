// "Run a node from cache": which nodes of an earlier job run again (the node and everything
// downstream of it) and which are reused, and whether the reused ones can be (they must have
// succeeded or been skipped).
import { ConflictError, NotFoundError } from '../errors.ts';
import type { Dag } from '../pipeline/types.ts';
import type { JobState } from '../ports/job-state.ts';

/** The nodes to reuse from `old`, in DAG order; throws a 404/409 error naming the problem. */
export function planCaching(old: JobState, dag: Dag, nodeName: string): string[] {
  if (!old.nodes.has(nodeName)) {
    throw new NotFoundError(
      `node "${nodeName}" is not in pipeline ${old.pipeline.name} of job ${old.jobId}`,
      'NODE_NOT_FOUND',
    );
  }
  const rerun = new Set<string>([nodeName]);
  for (const n of dag.order) {
    if ((dag.parents.get(n) ?? []).some((p) => rerun.has(p))) rerun.add(n);
  }
  const keep = dag.order.filter((n) => !rerun.has(n));
  for (const n of keep) {
    const st = old.nodes.get(n)?.status;
    if (st !== 'succeeded' && st !== 'skipped') {
      throw new ConflictError(
        `node "${n}" of job ${old.jobId} is ${st}; only nodes that succeeded or were skipped can be reused`,
        'NODE_NOT_REUSABLE',
      );
    }
  }
  return keep;
}
