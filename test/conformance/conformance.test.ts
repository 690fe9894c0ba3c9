// Runs every golden case in cases/ against the pipeline language (validation, DAG, plan,
// expansion with simulated parent outputs, results).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import {
  buildDag,
  collectResults,
  type Expansion,
  expandNode,
  expandStreamingItem,
  expandStreamingItems,
  planPipeline,
  streamingParents,
  validatePipeline,
} from '../../shared/pipeline/index.ts';
import { parsePipelineText } from '../../shared/pipeline/parse-text.ts';
import { type ConformanceCase, type ExpansionExpectation, loadCases } from './load-cases.ts';

const KNOWN_EXPECTATIONS = [
  'error',
  'pipeline',
  'dag',
  'plan',
  'expansions',
  'streaming',
  'streamingItems',
  'results',
  'run',
];
const cases = loadCases();

function load(c: ConformanceCase) {
  const raw = parsePipelineText(readFileSync(c.pipelineFile, 'utf8'), c.pipelineFile);
  const flowInput = c.flowInputFile
    ? (JSON.parse(readFileSync(c.flowInputFile, 'utf8')) as Record<string, unknown>)
    : undefined;
  return { raw, flowInput };
}

function checkExpansion(actual: Expansion, want: ExpansionExpectation): void {
  expect(actual.kind).toBe(want.kind);
  if (actual.kind === 'single') {
    if (want.input) expect(actual.task.input).toEqual(want.input);
    expect(actual.task.batchIndex).toBeUndefined();
  } else if (actual.kind === 'batch') {
    if (want.count !== undefined) expect(actual.tasks).toHaveLength(want.count);
    if (want.inputs) expect(actual.tasks.map((t) => t.input)).toEqual(want.inputs);
    if (want.batchIndexes) expect(actual.tasks.map((t) => t.batchIndex)).toEqual(want.batchIndexes);
    for (const [index, input] of Object.entries(want.items ?? {})) {
      expect(actual.tasks.find((t) => t.batchIndex === Number(index))?.input, `item ${index}`).toEqual(input);
    }
  } else if (want.reason) {
    expect(actual.reason).toContain(want.reason);
  }
}

describe('conformance cases', () => {
  it('has at least 40 cases, each with a known expectation', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
    for (const c of cases) {
      const keys = Object.keys(c.expect);
      expect(keys.length, c.name).toBeGreaterThan(0);
      expect(
        keys.filter((k) => !KNOWN_EXPECTATIONS.includes(k)),
        c.name,
      ).toEqual([]);
    }
  });

  for (const c of cases) {
    it(`${c.name}: ${c.description}`, () => {
      const { raw, flowInput } = load(c);
      const opts = flowInput ? { flowInput } : {};
      if (c.expect.error) {
        let caught: unknown;
        try {
          validatePipeline(raw, opts);
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(ValidationError);
        const err = caught as ValidationError;
        expect(err.message).toContain(c.expect.error.message);
        expect(err.code).toBe('INVALID_PIPELINE');
        if (c.expect.error.field !== undefined) expect(err.field).toBe(c.expect.error.field);
        return;
      }
      const pipeline = validatePipeline(raw, opts);
      const dag = buildDag(pipeline);
      const want = c.expect;
      if (want.pipeline) expect(pipeline).toMatchObject(want.pipeline);
      if (want.dag?.order) expect(dag.order).toEqual(want.dag.order);
      if (want.dag?.sinks) expect(dag.sinks).toEqual(want.dag.sinks);
      if (want.dag?.edges) expect(dag.edges).toEqual(want.dag.edges);
      if (want.dag?.batchNodes)
        expect(dag.order.filter((n) => dag.isBatch.get(n))).toEqual(want.dag.batchNodes);
      if (want.plan) expect(planPipeline(pipeline)).toMatchObject(want.plan);
      const ctx = { flowInput: pipeline.flowInput, outputs: new Map(Object.entries(c.outputs)) };
      for (const [node, expansion] of Object.entries(want.expansions ?? {})) {
        checkExpansion(expandNode(pipeline, dag, node, ctx), expansion);
      }
      for (const [node, items] of Object.entries(want.streaming ?? {})) {
        for (const [index, task] of Object.entries(items)) {
          expect(
            expandStreamingItem(pipeline, dag, node, ctx, Number(index)),
            `${node} item ${index}`,
          ).toEqual(task);
        }
      }
      for (const [node, items] of Object.entries(want.streamingItems ?? {})) {
        for (const [index, tasks] of Object.entries(items)) {
          expect(
            expandStreamingItems(pipeline, dag, node, ctx, Number(index)),
            `${node} item ${index}`,
          ).toEqual(tasks);
        }
      }
      if (want.dag?.streamingParents) {
        for (const [node, parents] of Object.entries(want.dag.streamingParents)) {
          expect(streamingParents(dag, node), `streaming parents of ${node}`).toEqual(parents);
        }
      }
      if (want.results) expect(collectResults(pipeline, dag, ctx.outputs)).toEqual(want.results);
    });
  }
});
