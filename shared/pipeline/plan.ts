// `sluice plan` as data: the DAG in execution order, each node's parents and relations, and every
// batch whose size is known before running (literal `#[...]`, `#@flowInput...`) with its first
// items. Nothing runs; outputs of nodes that would run are unknown and shown as references.
import { DEFAULT_PLAN_PREVIEW_ITEMS } from './constants.ts';
import { buildDag, relationsBetween, streamingParents } from './dag.ts';
import { expandNodeIfKnown } from './expand.ts';
import { resolveInputValue } from './resolve.ts';
import type {
  BatchOperation,
  NodeOutput,
  Pipeline,
  PipelineOptions,
  RelationType,
  TaskInput,
} from './types.ts';

export interface PlannedParent {
  nodeName: string;
  relations: RelationType[];
}

export type PlannedExpansion =
  /** `input`: references to nodes that have not run are kept as text (`"@Range"`). */
  | { kind: 'single'; input: unknown[] }
  /** `items`: the first items only; `itemCount` is the whole batch. */
  | { kind: 'batch'; itemCount: number; items: TaskInput[] }
  /** The batch size is known only when these parents have run; `input` has flowInput resolved. */
  | { kind: 'batch-at-run-time'; waitingFor: string[]; input: unknown[] }
  | { kind: 'skipped'; reason: string };

export interface PlannedNode {
  /** 1-based position in execution order. */
  step: number;
  nodeName: string;
  algorithmName: string;
  kind: string;
  parents: PlannedParent[];
  isBatch: boolean;
  batchOperation?: BatchOperation;
  /** Batch parents this node streams from (`*@`): child item k starts when their item k succeeds. */
  streamsFrom?: string[];
  inResults: boolean;
  /** The input as written in the descriptor. */
  declaredInput: unknown[];
  expansion: PlannedExpansion;
}

export interface PipelinePlan {
  name: string;
  priority: number;
  options: PipelineOptions;
  flowInput: Record<string, unknown>;
  nodes: PlannedNode[];
  /** Nodes whose outputs are the pipeline's results. */
  results: string[];
}

export function planPipeline(pipeline: Pipeline, opts: { previewItems?: number } = {}): PipelinePlan {
  const previewItems = opts.previewItems ?? DEFAULT_PLAN_PREVIEW_ITEMS;
  const dag = buildDag(pipeline);
  const byName = new Map(pipeline.nodes.map((n) => [n.nodeName, n]));
  // Skips known before running cascade, exactly as they would at run time.
  const knownOutputs = new Map<string, NodeOutput>();
  const outputNode = pipeline.nodes.find((n) => n.kind === 'output')?.nodeName;
  const ctx = { flowInput: pipeline.flowInput, outputs: knownOutputs };
  const nodes = dag.order.map((nodeName, i): PlannedNode => {
    const node = byName.get(nodeName)!;
    const isBatch = dag.isBatch.get(nodeName) === true;
    const expansion = expandNodeIfKnown(pipeline, dag, nodeName, ctx, {
      strict: false,
      maxItems: previewItems,
    });
    if (expansion.kind === 'skipped') knownOutputs.set(nodeName, { kind: 'skipped' });
    const planned: PlannedNode = {
      step: i + 1,
      nodeName,
      algorithmName: node.algorithmName,
      kind: node.kind,
      parents: (dag.parents.get(nodeName) ?? []).map((p) => ({
        nodeName: p,
        relations: relationsBetween(dag, p, nodeName),
      })),
      isBatch,
      inResults: outputNode ? nodeName === outputNode : dag.sinks.includes(nodeName) || node.includeInResult,
      declaredInput: node.input,
      expansion:
        expansion.kind === 'single'
          ? { kind: 'single', input: expansion.task.input }
          : expansion.kind === 'batch'
            ? { kind: 'batch', itemCount: expansion.itemCount, items: expansion.tasks }
            : expansion.kind === 'unknown'
              ? {
                  kind: 'batch-at-run-time',
                  waitingFor: expansion.waitingFor,
                  input: resolveInputValue(node.input, ctx) as unknown[],
                }
              : expansion,
    };
    if (isBatch) planned.batchOperation = node.batchOperation;
    const streams = streamingParents(dag, nodeName);
    if (streams.length > 0) planned.streamsFrom = streams;
    return planned;
  });
  return {
    name: pipeline.name,
    priority: pipeline.priority,
    options: pipeline.options,
    flowInput: pipeline.flowInput,
    nodes,
    results: nodes.filter((n) => n.inResults).map((n) => n.nodeName),
  };
}
