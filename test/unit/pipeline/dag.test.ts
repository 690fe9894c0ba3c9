import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import { buildDag, streamingParents } from '../../../shared/pipeline/dag.ts';
import type { Pipeline } from '../../../shared/pipeline/types.ts';
import { pipelineOf } from './fixtures.ts';

describe('buildDag', () => {
  it('knows batch nodes statically, including *@ chains over batches', () => {
    const dag = buildDag(
      pipelineOf([
        { nodeName: 'A', input: ['#[1,2]'] },
        { nodeName: 'B', input: ['*@A'] },
        { nodeName: 'C', input: ['*@B'] },
        { nodeName: 'D', input: ['@C'] },
        { nodeName: 'E', input: ['*@D'] },
      ]),
    );
    expect(Object.fromEntries(dag.isBatch)).toEqual({ A: true, B: true, C: true, D: false, E: false });
    expect(dag.sinks).toEqual(['E']);
    expect(dag.parents.get('D')).toEqual(['C']);
    expect(dag.children.get('A')).toEqual(['B']);
  });

  it('orders a diamond stably', () => {
    const dag = buildDag(
      pipelineOf([
        { nodeName: 'join', input: ['@left', '@right'] },
        { nodeName: 'right', input: ['@root'] },
        { nodeName: 'left', input: ['@root'] },
        { nodeName: 'root' },
      ]),
    );
    expect(dag.order).toEqual(['root', 'right', 'left', 'join']);
  });

  it('refuses an unvalidated cyclic pipeline with a ValidationError', () => {
    const cyclic = {
      ...pipelineOf([{ nodeName: 'A' }]),
      nodes: [
        { ...pipelineOf([{ nodeName: 'A' }]).nodes[0]!, input: ['@B'] },
        { ...pipelineOf([{ nodeName: 'B' }]).nodes[0]!, input: ['@A'] },
      ],
    } satisfies Pipeline;
    expect(() => buildDag(cyclic)).toThrow(ValidationError);
    expect(() => buildDag(cyclic)).toThrow('cyclic nodes are not allowed: A, B');
  });
});

describe('streamingParents', () => {
  it('lists batch parents reached by *@ or *#@ only', () => {
    const pipeline = pipelineOf(
      [
        { nodeName: 'A', input: ['#[1,2]'] },
        { nodeName: 'B', input: ['#[1,2]'] },
        { nodeName: 'S' },
        { nodeName: 'C', input: ['*@A', '*#@B', '*@S', '@flowInput.x'] },
        { nodeName: 'D', input: ['#@A'] },
      ],
      { flowInput: { x: 1 } },
    );
    const dag = buildDag(pipeline);
    expect(streamingParents(dag, 'C')).toEqual(['A', 'B']);
    expect(streamingParents(dag, 'D')).toEqual([]);
    expect(streamingParents(dag, 'nope')).toEqual([]);
  });
});
