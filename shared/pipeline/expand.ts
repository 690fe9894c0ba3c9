// Expansion: given the outputs a node waits for, its task input, its batch items, or "skipped".
// Pure functions over data, shared by both backends and by `sluice plan`.
import { MAX_BATCH_ITEMS } from './constants.ts';
import { streamingParents } from './dag.ts';
import { invalidPipeline, MissingNodeOutputError } from './errors.ts';
import { findNode, treatValue } from './expand-context.ts';
import { expandStreamingNode } from './expand-streaming.ts';
import type { InputReference } from './input-reference.ts';
import { compileInput, fillTemplate } from './input-template.ts';
import type { ItemList } from './literal-batch.ts';
import { itemsByBatchIndex } from './resolve.ts';
import type {
  BatchOperation,
  Dag,
  Expansion,
  ExpansionContext,
  Pipeline,
  PipelineNode,
  TaskInput,
} from './types.ts';
import { valueAtPath } from './value-path.ts';

/**
 * An expansion as far as the known outputs allow (for `plan`): a batch may list only its first
 * items (`itemCount` is the full size), and `unknown` says which parents must finish first.
 */
export type PartialExpansion =
  | { kind: 'single'; task: TaskInput }
  | { kind: 'batch'; tasks: TaskInput[]; itemCount: number }
  | { kind: 'skipped'; reason: string }
  | { kind: 'unknown'; waitingFor: string[] };

/** The source of one batch marker: its items, or why it has none. */
type MarkerList = { items: ItemList; emptyReason: string };
type MarkerItems = MarkerList | { skippedParent: string };

export function expandNode(pipeline: Pipeline, dag: Dag, nodeName: string, ctx: ExpansionContext): Expansion {
  const expansion = expandNodeIfKnown(pipeline, dag, nodeName, ctx, { strict: true });
  if (expansion.kind === 'unknown')
    throw new MissingNodeOutputError(nodeName, expansion.waitingFor[0] ?? '?');
  if (expansion.kind === 'batch') return { kind: 'batch', tasks: expansion.tasks };
  return expansion;
}

/**
 * The expansion as far as `ctx` allows. With `strict`, a missing parent output throws; without,
 * value references stay as text and an unknown batch size gives `{kind: 'unknown'}` (for plan).
 */
export function expandNodeIfKnown(
  pipeline: Pipeline,
  dag: Dag,
  nodeName: string,
  ctx: ExpansionContext,
  { strict, maxItems = Number.POSITIVE_INFINITY }: { strict: boolean; maxItems?: number },
): PartialExpansion {
  const node = findNode(pipeline, nodeName);
  const streaming = streamingParents(dag, nodeName);
  if (streaming.length > 0) return expandStreamingNode(node, ctx, streaming, strict, maxItems);

  const waitingFor: string[] = [];
  const { template, holes } = compileInput(node.input, (ref) => {
    if (isHole(ref)) return { kind: 'hole' };
    return treatValue(ref, ctx, node, strict);
  });
  if (holes.length === 0) {
    return { kind: 'single', task: { input: fillTemplate(template, []) as unknown[] } };
  }
  const sources: MarkerList[] = [];
  for (const ref of holes) {
    const source = markerItems(ref, ctx, node, strict);
    if (source === undefined) waitingFor.push((ref as { nodeName: string }).nodeName);
    else if ('skippedParent' in source) {
      return { kind: 'skipped', reason: `parent "${source.skippedParent}" was skipped` };
    } else sources.push(source);
  }
  if (waitingFor.length > 0) return { kind: 'unknown', waitingFor: [...new Set(waitingFor)] };

  const lists = sources.map((s) => s.items);
  const count = batchSize(lists, node.batchOperation);
  if (count === 0) {
    const reason = sources.find((s) => s.items.length === 0)?.emptyReason ?? 'the batch has no items';
    return { kind: 'skipped', reason };
  }
  if (count > MAX_BATCH_ITEMS) {
    throw invalidPipeline(
      `node "${node.nodeName}" would have ${count} batch items; at most ${MAX_BATCH_ITEMS} are allowed`,
      'input',
    );
  }
  const pick = itemPicker(lists, node.batchOperation);
  const tasks: TaskInput[] = [];
  const shown = Math.min(count, maxItems);
  for (let i = 0; i < shown; i++) {
    tasks.push({ batchIndex: i + 1, input: fillTemplate(template, pick(i)) as unknown[] });
  }
  return { kind: 'batch', tasks, itemCount: count };
}

/** Batch markers: literal batches, `#@flowInput...`, `#@X`, and `*#@X` over a non-batch X. */
function isHole(ref: InputReference): boolean {
  if (ref.kind === 'literalBatch') return true;
  if (ref.kind === 'flowInput') return ref.batch;
  return ref.relation === 'batch' || ref.relation === 'waitAnyBatch';
}

function markerItems(
  ref: InputReference,
  ctx: ExpansionContext,
  node: PipelineNode,
  strict: boolean,
): MarkerItems | undefined {
  if (ref.kind === 'literalBatch') {
    return { items: ref.items, emptyReason: `${ref.text} has no items` };
  }
  if (ref.kind === 'flowInput') return listItems(valueAtPath(ctx.flowInput, ref.path), ref.text);
  const output = ctx.outputs.get(ref.nodeName);
  if (!output) {
    if (strict) throw new MissingNodeOutputError(node.nodeName, ref.nodeName);
    return undefined;
  }
  if (output.kind === 'skipped') return { skippedParent: ref.nodeName };
  if (output.kind === 'batch') {
    const succeeded = itemsByBatchIndex(output.items).filter((item) => item.status === 'succeeded');
    return {
      items: succeeded.map((item) => valueAtPath(item.result ?? null, ref.path)),
      emptyReason: `parent "${ref.nodeName}" has no succeeded items`,
    };
  }
  return listItems(
    output.status === 'succeeded' ? valueAtPath(output.result ?? null, ref.path) : null,
    ref.text,
  );
}

function listItems(value: unknown, text: string): MarkerItems {
  if (!Array.isArray(value)) return { items: [], emptyReason: `${text} is not an array` };
  return { items: value, emptyReason: `${text} is an empty list` };
}

/** indexed: the longest list (shorter ones give null); cartesian: the product. */
export function batchSize(lists: readonly ItemList[], operation: BatchOperation): number {
  if (operation === 'indexed') return lists.reduce((n, l) => Math.max(n, l.length), 0);
  let product = 1;
  for (const l of lists) {
    product *= l.length;
    if (product > MAX_BATCH_ITEMS) return product; // stop before it leaves the safe integers
  }
  return product;
}

/** The marker values of item i (0-based). Cartesian: the first marker is the outer loop. */
function itemPicker(lists: readonly ItemList[], operation: BatchOperation): (i: number) => unknown[] {
  if (operation === 'indexed') return (i) => lists.map((l) => (i < l.length ? l.at(i) : null));
  const strides = lists.map((_, j) => lists.slice(j + 1).reduce((n, l) => n * l.length, 1));
  return (i) => lists.map((l, j) => l.at(Math.floor(i / strides[j]!) % l.length));
}
