// When a node can take tasks: the one rule used by the transitions (a parent finished, a parent
// started streaming), by reconcile (what a crash left undone) and by streaming expansion (when a
// streaming node is sealed).
import { streamingParents } from '../pipeline/dag.ts';
import type { Dag } from '../pipeline/types.ts';
import { isNodeFinal, type NodeState } from '../ports/job-state.ts';

/** Where node states are read from: a job's NodeStates, or a transition's view of them. */
export interface NodeLookup {
  get(name: string): NodeState | undefined;
}

const final = (nodes: NodeLookup, name: string) =>
  isNodeFinal(nodes.get(name) ?? ({ status: 'pending' } as NodeState));

/**
 * A node is ready to expand once every parent it waits for is final. It does not wait for the
 * parents it streams from (`*@Parent`): it takes their items one by one while they run.
 */
export function isReady(nodes: NodeLookup, dag: Dag, node: string): boolean {
  const streaming = streamingParents(dag, node);
  return (dag.parents.get(node) ?? []).every((p) => streaming.includes(p) || final(nodes, p));
}

/** A streaming node gets no more items once every parent it streams from is final. */
export function streamSealed(nodes: NodeLookup, dag: Dag, node: string): boolean {
  return streamingParents(dag, node).every((p) => final(nodes, p));
}
