// Streaming expansion (`*@P`, `*#@P` with P a batch node): child item k is built from item k of
// every streaming parent as soon as they all succeeded; a failed or skipped item k drops it.
import { streamingParents } from './dag.ts';
import { MissingNodeOutputError } from './errors.ts';
import type { PartialExpansion } from './expand.ts';
import { findNode, treatValue } from './expand-context.ts';
import { type CompiledInput, compileInput, fillTemplate } from './input-template.ts';
import { itemsByBatchIndex } from './resolve.ts';
import type {
  BatchItemOutput,
  Dag,
  ExpansionContext,
  NodeOutput,
  Pipeline,
  PipelineNode,
  TaskInput,
} from './types.ts';
import { valueAtPath } from './value-path.ts';

/** Every item known so far (plan, or expandNode called on a streaming node once all is done). */
export function expandStreamingNode(
  node: PipelineNode,
  ctx: ExpansionContext,
  streaming: string[],
  strict: boolean,
  maxItems: number,
): PartialExpansion {
  const outputs = streaming.map((p) => ctx.outputs.get(p));
  const unknown = streaming.filter((_, i) => !outputs[i]);
  if (unknown.length > 0) {
    if (strict) throw new MissingNodeOutputError(node.nodeName, unknown[0]!);
    return { kind: 'unknown', waitingFor: unknown };
  }
  const skipped = streaming.find((_, i) => outputs[i]!.kind === 'skipped');
  if (skipped) return { kind: 'skipped', reason: `parent "${skipped}" was skipped` };
  // Index every parent's items once: the loop below must stay linear for 100,000 items.
  const byIndex = new Map(
    streaming.map((p, i) => {
      const output = outputs[i]!;
      const items = output.kind === 'batch' ? output.items : [];
      return [p, new Map(items.map((item) => [item.batchIndex, item]))];
    }),
  );
  const compiled = compileStreaming(node, ctx, streaming, strict);
  const first = outputs[0]!;
  const indexes = first.kind === 'batch' ? itemsByBatchIndex(first.items).map((item) => item.batchIndex) : [];
  const tasks: TaskInput[] = [];
  let count = 0;
  for (const k of indexes) {
    const results = succeededItemResults(streaming, (p) => byIndex.get(p)?.get(k));
    if (!results) continue;
    count++;
    if (tasks.length < maxItems) tasks.push({ batchIndex: k, input: fillItem(compiled, results) });
  }
  if (count === 0) return { kind: 'skipped', reason: `no item succeeded in all of ${streaming.join(', ')}` };
  return { kind: 'batch', tasks, itemCount: count };
}

/**
 * The child item for parent batchIndex k of a streaming node (`*@P` / `*#@P` with P a batch),
 * or null when some streaming parent's item k did not succeed (the item is dropped).
 */
export function expandStreamingItem(
  pipeline: Pipeline,
  dag: Dag,
  nodeName: string,
  ctx: ExpansionContext,
  batchIndex: number,
): TaskInput | null {
  const node = findNode(pipeline, nodeName);
  const streaming = streamingParents(dag, nodeName);
  const results = succeededItemResults(streaming, (p) => findItem(ctx.outputs.get(p), batchIndex));
  if (!results) return null;
  return { batchIndex, input: fillItem(compileStreaming(node, ctx, streaming, true), results) };
}

/** Item k's result of every streaming parent, or null when one of them did not succeed. */
function succeededItemResults(
  streaming: readonly string[],
  itemOf: (parent: string) => BatchItemOutput | undefined,
): Map<string, unknown> | null {
  const results = new Map<string, unknown>();
  for (const parent of streaming) {
    const item = itemOf(parent);
    if (item?.status !== 'succeeded') return null;
    results.set(parent, item.result ?? null);
  }
  return results;
}

/** The input with every reference to a streaming parent as a hole, everything else resolved. */
function compileStreaming(
  node: PipelineNode,
  ctx: ExpansionContext,
  streaming: readonly string[],
  strict: boolean,
): CompiledInput {
  return compileInput(node.input, (ref) => {
    if (ref.kind === 'node' && streaming.includes(ref.nodeName)) return { kind: 'hole' };
    return treatValue(ref, ctx, node, strict);
  });
}

function fillItem({ template, holes }: CompiledInput, results: ReadonlyMap<string, unknown>): unknown[] {
  const values = holes.map((ref) =>
    ref.kind === 'node' ? valueAtPath(results.get(ref.nodeName), ref.path) : null,
  );
  return fillTemplate(template, values) as unknown[];
}

/** Item k of a batch output; O(1) when items are stored densely by batchIndex, as engines do. */
function findItem(output: NodeOutput | undefined, batchIndex: number): BatchItemOutput | undefined {
  if (output?.kind !== 'batch') return undefined;
  const guess = output.items[batchIndex - 1];
  if (guess?.batchIndex === batchIndex) return guess;
  return output.items.find((item) => item.batchIndex === batchIndex);
}
