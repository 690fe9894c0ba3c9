// Per-index expansion of a node that uses `*@P` / `*#@P` over batch parents: for every index k
// where item k of each such parent succeeded, the input with those references filled from item k
// (a failed or skipped item k drops it). As in HKube, the rest of the input may use any parent
// whole (`@X`) or as a batch (`#@X`, `#[...]`): then index k gets a sub-batch of m items, numbered
// (k-1)*m+1 .. k*m, so batchIndexes stay unique and ordered by parent item, then sub-item.
import { batchSize, isBatchHole, itemPicker, type MarkerList, markerLists } from './batch-markers.ts';
import { MAX_BATCH_ITEMS } from './constants.ts';
import { indexedParents } from './dag.ts';
import { invalidPipeline, MissingNodeOutputError, StreamingSubBatchError } from './errors.ts';
import type { PartialExpansion } from './expand.ts';
import { findNode, treatValue } from './expand-context.ts';
import type { InputReference } from './input-reference.ts';
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

/** The compiled input and, when it has batch markers besides `*@`, the sub-batch per index. */
interface IndexedInput {
  compiled: CompiledInput;
  /** Whether hole i is a `*@P` reference (else a batch marker). */
  byIndex: boolean[];
  /** null: no batch marker, one task per index. */
  sub: { lists: MarkerList[]; count: number; pick: (j: number) => unknown[] } | null;
}

type Prepared =
  | IndexedInput
  | { kind: 'skipped'; reason: string }
  | { kind: 'unknown'; waitingFor: string[] };

function prepare(
  node: PipelineNode,
  ctx: ExpansionContext,
  indexed: readonly string[],
  strict: boolean,
): Prepared {
  const isIndexHole = (ref: InputReference) =>
    ref.kind === 'node' &&
    (ref.relation === 'waitAny' || ref.relation === 'waitAnyBatch') &&
    indexed.includes(ref.nodeName);
  const compiled = compileInput(node.input, (ref) =>
    isIndexHole(ref) || isBatchHole(ref) ? { kind: 'hole' } : treatValue(ref, ctx, node, strict),
  );
  const byIndex = compiled.holes.map(isIndexHole);
  const markers = compiled.holes.filter((_, i) => !byIndex[i]);
  if (markers.length === 0) return { compiled, byIndex, sub: null };
  const sources = markerLists(markers, ctx, node, strict);
  if ('waitingFor' in sources) return { kind: 'unknown', waitingFor: sources.waitingFor };
  if ('skippedParent' in sources) {
    return { kind: 'skipped', reason: `parent "${sources.skippedParent}" was skipped` };
  }
  const lists = sources.lists.map((s) => s.items);
  const count = batchSize(lists, node.batchOperation);
  return {
    compiled,
    byIndex,
    sub: { lists: sources.lists, count, pick: itemPicker(lists, node.batchOperation) },
  };
}

/** The tasks of index k, given item k's result of every indexed parent. */
function tasksOfIndex(
  node: PipelineNode,
  { compiled, byIndex, sub }: IndexedInput,
  k: number,
  results: ReadonlyMap<string, unknown>,
): TaskInput[] {
  const indexValues = compiled.holes.map((ref, i) =>
    byIndex[i] && ref.kind === 'node' ? valueAtPath(results.get(ref.nodeName), ref.path) : null,
  );
  if (!sub) return [{ batchIndex: k, input: fillTemplate(compiled.template, indexValues) as unknown[] }];
  if (k * sub.count > MAX_BATCH_ITEMS) {
    throw invalidPipeline(
      `node "${node.nodeName}" would have more than ${MAX_BATCH_ITEMS} batch items (${sub.count} per item of its *@ parents)`,
      'input',
    );
  }
  const tasks: TaskInput[] = [];
  for (let j = 0; j < sub.count; j++) {
    const picked = sub.pick(j);
    let m = 0;
    const values = indexValues.map((v, i) => (byIndex[i] ? v : picked[m++]));
    tasks.push({
      batchIndex: (k - 1) * sub.count + j + 1,
      input: fillTemplate(compiled.template, values) as unknown[],
    });
  }
  return tasks;
}

/** Every item known so far (plan; or expandNode once every parent is done). */
export function expandIndexedNode(
  node: PipelineNode,
  ctx: ExpansionContext,
  indexed: string[],
  strict: boolean,
  maxItems: number,
): PartialExpansion {
  const outputs = indexed.map((p) => ctx.outputs.get(p));
  const unknown = indexed.filter((_, i) => !outputs[i]);
  if (unknown.length > 0) {
    if (strict) throw new MissingNodeOutputError(node.nodeName, unknown[0]!);
    return { kind: 'unknown', waitingFor: unknown };
  }
  const skipped = indexed.find((_, i) => outputs[i]!.kind === 'skipped');
  if (skipped) return { kind: 'skipped', reason: `parent "${skipped}" was skipped` };
  const prepared = prepare(node, ctx, indexed, strict);
  if ('kind' in prepared) return prepared;
  if (prepared.sub?.count === 0) {
    const reason =
      prepared.sub.lists.find((s) => s.items.length === 0)?.emptyReason ?? 'the batch has no items';
    return { kind: 'skipped', reason };
  }
  // Index every parent's items once: the loop below must stay linear for 100,000 items.
  const byIndex = new Map(
    indexed.map((p, i) => {
      const output = outputs[i]!;
      const items = output.kind === 'batch' ? output.items : [];
      return [p, new Map(items.map((item) => [item.batchIndex, item]))];
    }),
  );
  const first = outputs[0]!;
  const indexes = first.kind === 'batch' ? itemsByBatchIndex(first.items).map((item) => item.batchIndex) : [];
  const tasks: TaskInput[] = [];
  let count = 0;
  for (const k of indexes) {
    const results = succeededItemResults(indexed, (p) => byIndex.get(p)?.get(k));
    if (!results) continue;
    const perIndex = prepared.sub?.count ?? 1;
    count += perIndex;
    if (tasks.length < maxItems)
      tasks.push(...tasksOfIndex(node, prepared, k, results).slice(0, maxItems - tasks.length));
  }
  if (count === 0) return { kind: 'skipped', reason: `no item succeeded in all of ${indexed.join(', ')}` };
  return { kind: 'batch', tasks, itemCount: count };
}

/**
 * The tasks for parent batchIndex k of a node with `*@P` over batch parents: none when some
 * such parent's item k did not succeed (dropped), one task (batchIndex k), or a sub-batch.
 * The engine calls it as streaming parents' items succeed; every other parent must be done.
 */
export function expandStreamingItems(
  pipeline: Pipeline,
  dag: Dag,
  nodeName: string,
  ctx: ExpansionContext,
  batchIndex: number,
): TaskInput[] {
  const node = findNode(pipeline, nodeName);
  const indexed = indexedParents(dag, nodeName);
  const results = succeededItemResults(indexed, (p) => findItem(ctx.outputs.get(p), batchIndex));
  if (!results) return [];
  const prepared = prepare(node, ctx, indexed, true);
  if ('kind' in prepared) return []; // a skipped marker parent: no items (strict never leaves one unknown)
  return tasksOfIndex(node, prepared, batchIndex, results);
}

/**
 * The one task for parent batchIndex k, or null when it is dropped. For nodes whose input has no
 * batch marker besides `*@`; a node that also batches gets several tasks per index and must be
 * expanded with expandStreamingItems.
 */
export function expandStreamingItem(
  pipeline: Pipeline,
  dag: Dag,
  nodeName: string,
  ctx: ExpansionContext,
  batchIndex: number,
): TaskInput | null {
  const tasks = expandStreamingItems(pipeline, dag, nodeName, ctx, batchIndex);
  if (tasks.length > 1) throw new StreamingSubBatchError(nodeName);
  return tasks[0] ?? null;
}

/** Item k's result of every indexed parent, or null when one of them did not succeed. */
function succeededItemResults(
  indexed: readonly string[],
  itemOf: (parent: string) => BatchItemOutput | undefined,
): Map<string, unknown> | null {
  const results = new Map<string, unknown>();
  for (const parent of indexed) {
    const item = itemOf(parent);
    if (item?.status !== 'succeeded') return null;
    results.set(parent, item.result ?? null);
  }
  return results;
}

/** Item k of a batch output; O(1) when items are stored densely by batchIndex, as engines do. */
function findItem(output: NodeOutput | undefined, batchIndex: number): BatchItemOutput | undefined {
  if (output?.kind !== 'batch') return undefined;
  const guess = output.items[batchIndex - 1];
  if (guess?.batchIndex === batchIndex) return guess;
  return output.items.find((item) => item.batchIndex === batchIndex);
}
