import { describe, expect, it } from 'vitest';
import { buildDag } from '../../../shared/pipeline/dag.ts';
import { MissingNodeOutputError, StreamingSubBatchError } from '../../../shared/pipeline/errors.ts';
import { expandNode, expandNodeIfKnown } from '../../../shared/pipeline/expand.ts';
import { expandStreamingItem, expandStreamingItems } from '../../../shared/pipeline/expand-streaming.ts';
import { resolveInputValue } from '../../../shared/pipeline/resolve.ts';
import type { NodeOutput } from '../../../shared/pipeline/types.ts';
import { batchOf, pipelineOf, succeeded } from './fixtures.ts';

const ctxOf = (outputs: Record<string, NodeOutput> = {}, flowInput: Record<string, unknown> = {}) => ({
  flowInput,
  outputs: new Map(Object.entries(outputs)),
});

describe('expandNode', () => {
  it('gives a single task with every reference resolved', () => {
    const p = pipelineOf(
      [{ nodeName: 'A' }, { nodeName: 'B', input: [{ a: '@A.x', f: '@flowInput.f' }, '@A.missing'] }],
      {
        flowInput: { f: [1] },
      },
    );
    const e = expandNode(p, buildDag(p), 'B', ctxOf({ A: succeeded({ x: 'y' }) }, p.flowInput));
    expect(e).toEqual({ kind: 'single', task: { input: [{ a: 'y', f: [1] }, null] } });
  });

  it('combines three markers in cartesian order, the first marker outermost', () => {
    const p = pipelineOf([
      { nodeName: 'A', input: ['#[a,b]', '#[1,2]', '#[x,y]'], batchOperation: 'cartesian' },
    ]);
    const e = expandNode(p, buildDag(p), 'A', ctxOf());
    expect(e.kind === 'batch' && e.tasks.map((t) => t.input.join(''))).toEqual([
      'a1x',
      'a1y',
      'a2x',
      'a2y',
      'b1x',
      'b1y',
      'b2x',
      'b2y',
    ]);
  });

  it('throws MissingNodeOutputError when asked before a parent finished', () => {
    const p = pipelineOf([{ nodeName: 'A' }, { nodeName: 'B', input: ['@A'] }]);
    expect(() => expandNode(p, buildDag(p), 'B', ctxOf())).toThrow(MissingNodeOutputError);
  });

  it('rejects an unknown node name', () => {
    const p = pipelineOf([{ nodeName: 'A' }]);
    expect(() => expandNode(p, buildDag(p), 'Z', ctxOf())).toThrow('node "Z" does not exist');
  });

  it('rejects a run-time batch over the item limit instead of building it', () => {
    const p = pipelineOf([
      { nodeName: 'A' },
      { nodeName: 'B', input: ['#@A', '#@A'], batchOperation: 'cartesian' },
    ]);
    const big = Array.from({ length: 2000 }, (_, i) => i);
    expect(() => expandNode(p, buildDag(p), 'B', ctxOf({ A: succeeded(big) }))).toThrow(
      'would have 4000000 batch items',
    );
  });

  it('expands 100,000 literal items quickly, sharing the parts without markers', () => {
    const shared = { big: Array.from({ length: 1000 }, (_, i) => i) };
    const p = pipelineOf([{ nodeName: 'A', input: ['#[1...100000]', '@flowInput.cfg'] }], {
      flowInput: { cfg: shared },
    });
    const started = performance.now();
    const e = expandNode(p, buildDag(p), 'A', ctxOf({}, p.flowInput));
    expect(performance.now() - started).toBeLessThan(2000);
    if (e.kind !== 'batch') throw new Error('expected a batch');
    expect(e.tasks).toHaveLength(100_000);
    expect(e.tasks[99_999]).toEqual({ batchIndex: 100_000, input: [100_000, shared] });
    expect(e.tasks[0]!.input[1]).toBe(e.tasks[1]!.input[1]);
  });

  it('keeps a __proto__ key as data', () => {
    const p = pipelineOf([{ nodeName: 'A', input: [JSON.parse('{"__proto__": {"polluted": "#[1]"}}')] }]);
    const e = expandNode(p, buildDag(p), 'A', ctxOf());
    if (e.kind !== 'batch') throw new Error('expected a batch');
    const first = e.tasks[0]!.input[0] as Record<string, unknown>;
    expect(Object.hasOwn(first, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('expandNodeIfKnown (for plan)', () => {
  it('reports which parents a run-time batch waits for and shows the first items only', () => {
    const p = pipelineOf([
      { nodeName: 'A' },
      { nodeName: 'B', input: ['#@A'] },
      { nodeName: 'C', input: ['#[1...50]', '@A'] },
    ]);
    const dag = buildDag(p);
    expect(expandNodeIfKnown(p, dag, 'B', ctxOf(), { strict: false })).toEqual({
      kind: 'unknown',
      waitingFor: ['A'],
    });
    expect(expandNodeIfKnown(p, dag, 'C', ctxOf(), { strict: false, maxItems: 2 })).toEqual({
      kind: 'batch',
      itemCount: 50,
      tasks: [
        { batchIndex: 1, input: [1, '@A'] },
        { batchIndex: 2, input: [2, '@A'] },
      ],
    });
  });
});

describe('expandStreamingItem', () => {
  it('builds item k from item k of the streaming parent, resolving the rest', () => {
    const p = pipelineOf([
      { nodeName: 'A', input: ['#[1...3]'] },
      { nodeName: 'S' },
      { nodeName: 'B', input: ['*@A.v', '@S', '*@S'] },
    ]);
    const dag = buildDag(p);
    const ctx = ctxOf({ A: batchOf({ v: 1 }, { failed: 'x' }), S: succeeded('s') });
    expect(expandStreamingItem(p, dag, 'B', ctx, 1)).toEqual({ batchIndex: 1, input: [1, 's', 's'] });
    expect(expandStreamingItem(p, dag, 'B', ctx, 2)).toBeNull();
    expect(expandStreamingItem(p, dag, 'B', ctx, 3)).toBeNull();
  });

  it('expands 100,000 streamed items in linear time, even stored in reverse order', () => {
    const p = pipelineOf([
      { nodeName: 'A', input: ['#[1...100000]'] },
      { nodeName: 'B', input: ['#[1...100000]'] },
      { nodeName: 'C', input: ['*@A', '@B.0'] },
    ]);
    const reversed = (prefix: string): NodeOutput => ({
      kind: 'batch',
      items: Array.from({ length: 100_000 }, (_, i) => ({
        batchIndex: 100_000 - i,
        status: 'succeeded' as const,
        result: `${prefix}${100_000 - i}`,
      })),
    });
    const started = performance.now();
    const e = expandNode(p, buildDag(p), 'C', ctxOf({ A: reversed('a'), B: reversed('b') }));
    expect(performance.now() - started).toBeLessThan(3000);
    if (e.kind !== 'batch') throw new Error('expected a batch');
    expect(e.tasks).toHaveLength(100_000);
    expect(e.tasks[41]).toEqual({ batchIndex: 42, input: ['a42', 'b1'] });
  });

  it('finds items stored out of order', () => {
    const p = pipelineOf([
      { nodeName: 'A', input: ['#[1...3]'] },
      { nodeName: 'B', input: ['*@A'] },
    ]);
    const ctx = ctxOf({
      A: {
        kind: 'batch',
        items: [
          { batchIndex: 3, status: 'succeeded', result: 'c' },
          { batchIndex: 1, status: 'succeeded', result: 'a' },
        ],
      },
    });
    expect(expandStreamingItem(p, buildDag(p), 'B', ctx, 3)).toEqual({ batchIndex: 3, input: ['c'] });
  });

  it('gives the tasks of one index of a node mixing *@ with a batch; the singular form refuses it', () => {
    const p = pipelineOf([
      { nodeName: 'A', input: ['#[1...3]'] },
      { nodeName: 'B', input: ['#[1...2]'] },
      { nodeName: 'C', input: ['*@A', '#@B'] },
    ]);
    const dag = buildDag(p);
    const ctx = ctxOf({ A: batchOf('a1', 'a2', 'a3'), B: batchOf('b1', 'b2') });
    expect(expandStreamingItems(p, dag, 'C', ctx, 3)).toEqual([
      { batchIndex: 5, input: ['a3', 'b1'] },
      { batchIndex: 6, input: ['a3', 'b2'] },
    ]);
    expect(() => expandStreamingItem(p, dag, 'C', ctx, 3)).toThrow(StreamingSubBatchError);
  });
});

describe('resolveInputValue', () => {
  it('resolves what is known and leaves unknown references and batch markers as text', () => {
    const value = resolveInputValue(
      { a: '@flowInput.x', b: ['@A', '@B.0', '#@A', '#[1]', null] },
      ctxOf({ B: batchOf('b1') }, { x: 2 }),
    );
    expect(value).toEqual({ a: 2, b: ['@A', 'b1', '#@A', '#[1]', null] });
  });

  it('gives [] for a skipped node and null for a failed single node', () => {
    const ctx = ctxOf({ K: { kind: 'skipped' }, F: { kind: 'single', status: 'failed', error: 'x' } });
    expect(resolveInputValue(['@K', '@F', '@K.0'], ctx)).toEqual([[], null, null]);
  });
});
