// A batch expansion split across invocations (ExpansionSplit), as the pure transition records it:
// each part moves the node's checkpoint forward (never back, whatever order parts are applied in)
// and sets the node's total to the whole batch; the last part seals it; the node finishes only
// once every item of the whole batch has finished.
import { expect, it } from 'vitest';
import { initialJobState, transition } from '../../../shared/engine/transitions.ts';
import type { EngineEvent } from '../../../shared/engine/types.ts';
import { buildDag, validatePipeline } from '../../../shared/pipeline/index.ts';
import type { JobState } from '../../../shared/ports/job-state.ts';

const pipeline = validatePipeline({
  name: 'split',
  nodes: [{ nodeName: 'fan', algorithmName: 'echo', input: ['#[1...6]'] }],
});
const dag = buildDag(pipeline);

function apply(state: JobState, ...events: EngineEvent[]): JobState {
  for (const ev of events) state = transition(state, dag, ev).state;
  return state;
}

const part = (through: number): EngineEvent => ({
  type: 'expanded',
  node: 'fan',
  created: through,
  sealed: false,
  through,
  total: 6,
  at: 2,
});
const done = (batchIndex: number): EngineEvent => ({
  type: 'taskFinished',
  node: 'fan',
  batchIndex,
  outcome: 'succeeded',
  // As the task store tallies them (items finish in order here).
  counts: { succeeded: batchIndex, failed: 0, stopped: 0 },
  at: 3,
});

it('a part records its checkpoint and keeps the node open; the last part seals it', () => {
  let s = apply(initialJobState('j', pipeline, dag, 1), { type: 'submitted', at: 1 });
  s = apply(s, part(2));
  // The total is the whole batch at once: item outcomes need no job write until the last one.
  expect(s.nodes.get('fan')).toMatchObject({ status: 'active', created: 2, expandedItems: 2, total: 6 });
  // The items of the first part finish before the rest exists: the node is not done.
  s = apply(s, done(1), done(2));
  expect(s.nodes.get('fan')?.status).toBe('active');
  // A repeated (late) part never moves the checkpoint back.
  s = apply(s, part(4), part(2));
  expect(s.nodes.get('fan')?.expandedItems).toBe(4);
  s = apply(s, { type: 'expanded', node: 'fan', created: 6, sealed: true, at: 4 });
  expect(s.nodes.get('fan')).toMatchObject({ status: 'active', total: 6 });
  expect(s.nodes.get('fan')?.expandedItems).toBeUndefined();
  s = apply(s, done(3), done(4), done(5), done(6));
  expect(s.nodes.get('fan')?.status).toBe('succeeded');
  expect(s.status).toBe('completed');
});
