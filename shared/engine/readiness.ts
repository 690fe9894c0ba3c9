// When a node can take tasks: the one rule used by the transitions (a parent finished, a parent
// started streaming), by reconcile (what a crash left undone) and by streaming expansion (when a
// streaming node is sealed).
import { streamingParents } from '../pipeline/dag.ts';
import type { Dag } from '../pipeline/types.ts';
import { isNodeFinal, type JobState, type NodeState } from '../ports/job-state.ts';

const final = (state: JobState, name: string) =>
  isNodeFinal(state.nodes[name] ?? ({ status: 'pending' } as NodeState));

/**
 * A node is ready to expand once every parent it waits for is final. It does not wait for the
 * parents it streams from (`*@Parent`): it takes their items one by one while they run.
 */
export function isReady(state: JobState, dag: Dag, node: string): boolean {
  const streaming = streamingParents(dag, node);
  return (dag.parents.get(node) ?? []).every((p) => streaming.includes(p) || final(state, p));
}

/** A streaming node gets no more items once every parent it streams from is final. */
export function streamSealed(state: JobState, dag: Dag, node: string): boolean {
  return streamingParents(dag, node).every((p) => final(state, p));
}
