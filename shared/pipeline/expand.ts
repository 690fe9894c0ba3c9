// Expansion: given the outputs a node waits for, its task input, its batch items, or "skipped".
// Pure functions over data, shared by both backends and by `sluice plan`.
import { batchSize, isBatchHole, itemPicker, markerLists } from './batch-markers.ts';
import { MAX_BATCH_ITEMS } from './constants.ts';
import { indexedParents } from './dag.ts';
import { invalidPipeline, MissingNodeOutputError } from './errors.ts';
import { findNode, treatValue } from './expand-context.ts';
import { expandIndexedNode } from './expand-streaming.ts';
import { compileInput, fillTemplate } from './input-template.ts';
import type { Dag, Expansion, ExpansionContext, Pipeline, TaskInput } from './types.ts';

/**
 * An expansion as far as the known outputs allow (for `plan`): a batch may list only its first
 * items (`itemCount` is the full size), and `unknown` says which parents must finish first.
 */
export type PartialExpansion =
  | { kind: 'single'; task: TaskInput }
  | { kind: 'batch'; tasks: TaskInput[]; itemCount: number }
  | { kind: 'skipped'; reason: string }
  | { kind: 'unknown'; waitingFor: string[] };

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
 * A node with `*@P` over a batch P gets one item (or one sub-batch) per item of P.
 */
export function expandNodeIfKnown(
  pipeline: Pipeline,
  dag: Dag,
  nodeName: string,
  ctx: ExpansionContext,
  { strict, maxItems = Number.POSITIVE_INFINITY }: { strict: boolean; maxItems?: number },
): PartialExpansion {
  const node = findNode(pipeline, nodeName);
  const indexed = indexedParents(dag, nodeName);
  if (indexed.length > 0) return expandIndexedNode(node, ctx, indexed, strict, maxItems);

  const { template, holes } = compileInput(node.input, (ref) => {
    if (isBatchHole(ref)) return { kind: 'hole' };
    return treatValue(ref, ctx, node, strict);
  });
  if (holes.length === 0) {
    return { kind: 'single', task: { input: fillTemplate(template, []) as unknown[] } };
  }
  const sources = markerLists(holes, ctx, node, strict);
  if ('waitingFor' in sources) return { kind: 'unknown', waitingFor: sources.waitingFor };
  if ('skippedParent' in sources) {
    return { kind: 'skipped', reason: `parent "${sources.skippedParent}" was skipped` };
  }
  const lists = sources.lists.map((s) => s.items);
  const count = batchSize(lists, node.batchOperation);
  if (count === 0) {
    const reason = sources.lists.find((s) => s.items.length === 0)?.emptyReason ?? 'the batch has no items';
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
