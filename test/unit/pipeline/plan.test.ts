import { describe, expect, it } from 'vitest';
import { planPipeline } from '../../../shared/pipeline/plan.ts';
import { pipelineOf } from './fixtures.ts';

describe('planPipeline', () => {
  it('shows statically known batches with their size and first items', () => {
    const plan = planPipeline(
      pipelineOf([{ nodeName: 'A', input: ['#@flowInput.files', 'x'] }], {
        flowInput: { files: ['a', 'b', 'c', 'd'] },
      }),
      { previewItems: 2 },
    );
    expect(plan.nodes[0]!.expansion).toEqual({
      kind: 'batch',
      itemCount: 4,
      items: [
        { batchIndex: 1, input: ['a', 'x'] },
        { batchIndex: 2, input: ['b', 'x'] },
      ],
    });
  });

  it('marks streaming nodes and what they stream from', () => {
    const plan = planPipeline(
      pipelineOf([
        { nodeName: 'A', input: ['#[1,2]'] },
        { nodeName: 'B', input: ['*@A'] },
      ]),
    );
    expect(plan.nodes[1]).toMatchObject({
      nodeName: 'B',
      isBatch: true,
      streamsFrom: ['A'],
      parents: [{ nodeName: 'A', relations: ['waitAny'] }],
      expansion: { kind: 'batch-at-run-time', waitingFor: ['A'] },
    });
  });

  it('carries the pipeline settings with their defaults', () => {
    const plan = planPipeline(pipelineOf([{ nodeName: 'A' }], { priority: 5 }));
    expect(plan).toMatchObject({
      name: 'test',
      priority: 5,
      options: { batchTolerance: 80, ttl: 3600 },
      results: ['A'],
    });
  });

  it('plans a 100,000-item literal batch without building every item', () => {
    const started = performance.now();
    const plan = planPipeline(pipelineOf([{ nodeName: 'A', input: ['#[1...100000]'] }]));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(plan.nodes[0]!.expansion).toMatchObject({ kind: 'batch', itemCount: 100_000 });
  });
});
