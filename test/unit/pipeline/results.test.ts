import { describe, expect, it } from 'vitest';
import { buildDag } from '../../../shared/pipeline/dag.ts';
import { collectResults } from '../../../shared/pipeline/results.ts';
import { batchOf, pipelineOf, succeeded } from './fixtures.ts';

describe('collectResults', () => {
  it('reports sinks and includeInResult nodes in execution order', () => {
    const p = pipelineOf([
      { nodeName: 'Z', input: ['@A'] },
      { nodeName: 'A', includeInResult: true },
      { nodeName: 'Y', input: ['@A'] },
    ]);
    const results = collectResults(
      p,
      buildDag(p),
      new Map([
        ['A', succeeded(1)],
        ['Z', succeeded(2)],
        ['Y', succeeded(3)],
      ]),
    );
    expect(results.map((r) => [r.nodeName, r.result])).toEqual([
      ['A', 1],
      ['Z', 2],
      ['Y', 3],
    ]);
  });

  it('names failed, stopped and never-run nodes with an error', () => {
    const p = pipelineOf([{ nodeName: 'A', input: ['#[1,2]'] }, { nodeName: 'B' }, { nodeName: 'C' }]);
    const outputs = new Map([
      [
        'A',
        {
          kind: 'batch' as const,
          items: [
            { batchIndex: 1, status: 'stopped' as const },
            { batchIndex: 2, status: 'succeeded' as const },
          ],
        },
      ],
      ['B', { kind: 'single' as const, status: 'failed' as const, error: 'exit 3' }],
    ]);
    expect(collectResults(p, buildDag(p), outputs)).toEqual([
      { nodeName: 'A', batchIndex: 1, algorithmName: 'alg-a', result: null, error: 'stopped' },
      { nodeName: 'A', batchIndex: 2, algorithmName: 'alg-a', result: null },
      { nodeName: 'B', algorithmName: 'alg-b', result: null, error: 'exit 3' },
      { nodeName: 'C', algorithmName: 'alg-c', result: null, error: 'the node did not run' },
    ]);
  });

  it('gives one entry per item of a batch sink', () => {
    const p = pipelineOf([{ nodeName: 'A', input: ['#[1...3]'] }]);
    expect(
      collectResults(p, buildDag(p), new Map([['A', batchOf('x', { failed: 'e' }, 'z')]])).map(
        (r) => r.batchIndex,
      ),
    ).toEqual([1, 2, 3]);
  });
});
