// Continuing a job from its stored state: after a crash (the task records are the source of
// truth: node counters are rebuilt from them) and whenever another process is asked to carry on
// (AWS: the expand function). Whatever should happen next is derived again and done; expansion is
// idempotent, so nothing is done twice.

import { streamingParents } from '../pipeline/index.ts';
import { changedNodes, type NodeState } from '../ports/job-state.ts';
import type { JobDriver } from './driver.ts';
import { expand } from './expansion.ts';
import { isReady } from './readiness.ts';
import { isJobFinal } from './transitions.ts';

export async function reconcile(d: JobDriver, jobId: string): Promise<void> {
  const { jobs, tasks, clock } = d.ports;
  const job = await jobs.getJob(jobId);
  if (!job || isJobFinal(job) || !job.admitted) return;
  const dag = d.dagOf(jobId, job.pipeline);
  const counts = await tasks.nodeCounts(jobId);
  const updates: [string, NodeState][] = [];
  for (const [name, n] of job.nodes.entries()) {
    const c = counts[name];
    if (!c) continue;
    if (
      c.succeeded !== n.succeeded ||
      c.failed !== n.failed ||
      c.stopped !== n.stopped ||
      c.created !== n.created
    ) {
      updates.push([name, { ...n, ...c }]);
    }
  }
  let state = job;
  if (updates.length) {
    state = { ...job, nodes: job.nodes.withAll(updates), version: job.version + 1 };
    await jobs.saveJob(state, job.version, changedNodes(job, state));
  }
  // A dynamic job's tasks come from its client: nothing to expand; a closed one re-checks below.
  if (state.dynamic && !state.dynamic.closed) return;
  for (const name of dag.order) {
    const n = state.nodes.get(name);
    if (!n) continue;
    if (
      !state.dynamic &&
      ((n.status === 'pending' && isReady(state.nodes, dag, name)) ||
        (n.status === 'active' && streamingParents(dag, name).length > 0) ||
        // A split expansion (see ExpansionSplit) continues from its checkpoint.
        (n.status === 'active' && n.expandedItems !== undefined))
    ) {
      await expand(d, state, dag, name);
    } else if (n.status === 'active' || (state.dynamic && n.status === 'pending')) {
      // Re-checks completion and batchTolerance with the reconciled counters.
      await d.apply(jobId, {
        type: 'expanded',
        node: name,
        created: n.created,
        sealed: true,
        at: clock.now(),
      });
    }
  }
}
