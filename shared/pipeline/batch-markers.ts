// Batch markers (`#[...]`, `#@flowInput...`, `#@X`, `*#@X` over a non-batch X): the list of items
// each one stands for, and how several lists combine into a batch (indexed or cartesian). Shared by
// the plain expansion and the per-index expansion of nodes that use `*@`.
import { MAX_BATCH_ITEMS } from './constants.ts';
import { MissingNodeOutputError } from './errors.ts';
import type { InputReference } from './input-reference.ts';
import type { ItemList } from './literal-batch.ts';
import { itemsByBatchIndex } from './resolve.ts';
import type { BatchOperation, ExpansionContext, PipelineNode } from './types.ts';
import { valueAtPath } from './value-path.ts';

/** The source of one batch marker: its items, or why it has none. */
export type MarkerList = { items: ItemList; emptyReason: string };
/** A marker's items; a skipped parent (the node is skipped too); undefined = parent not known yet. */
export type MarkerItems = MarkerList | { skippedParent: string };

/** Whether a reference is a batch marker when the node is expanded (its items fill a hole). */
export function isBatchHole(ref: InputReference): boolean {
  if (ref.kind === 'literalBatch') return true;
  if (ref.kind === 'flowInput') return ref.batch;
  return ref.relation === 'batch' || ref.relation === 'waitAnyBatch';
}

export function markerItems(
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

/**
 * The lists of every marker, in input order; a skipped parent or the parents not known yet
 * (`waitingFor`, without `strict`) instead.
 */
export function markerLists(
  holes: readonly InputReference[],
  ctx: ExpansionContext,
  node: PipelineNode,
  strict: boolean,
): { lists: MarkerList[] } | { skippedParent: string } | { waitingFor: string[] } {
  const lists: MarkerList[] = [];
  const waitingFor: string[] = [];
  for (const ref of holes) {
    const source = markerItems(ref, ctx, node, strict);
    if (source === undefined) waitingFor.push((ref as { nodeName: string }).nodeName);
    else if ('skippedParent' in source) return source;
    else lists.push(source);
  }
  return waitingFor.length > 0 ? { waitingFor: [...new Set(waitingFor)] } : { lists };
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
export function itemPicker(lists: readonly ItemList[], operation: BatchOperation): (i: number) => unknown[] {
  if (operation === 'indexed') return (i) => lists.map((l) => (i < l.length ? l.at(i) : null));
  const strides = lists.map((_, j) => lists.slice(j + 1).reduce((n, l) => n * l.length, 1));
  return (i) => lists.map((l, j) => l.at(Math.floor(i / strides[j]!) % l.length));
}
