// What a reference means given the flowInput and the outputs known so far: `@Node` of a batch is
// the array of item results by batchIndex (failed items → null), of a skipped node `[]`.
import { type InputReference, isReferenceText, parseReference } from './input-reference.ts';
import type { BatchItemOutput, ExpansionContext, NodeOutput } from './types.ts';
import { valueAtPath } from './value-path.ts';

/** The value `@Node` stands for. */
export function nodeOutputValue(output: NodeOutput): unknown {
  switch (output.kind) {
    case 'single':
      return output.status === 'succeeded' ? (output.result ?? null) : null;
    case 'batch':
      return itemsByBatchIndex(output.items).map((item) =>
        item.status === 'succeeded' ? (item.result ?? null) : null,
      );
    case 'skipped':
      return [];
  }
}

export function itemsByBatchIndex(items: readonly BatchItemOutput[]): BatchItemOutput[] {
  for (let i = 1; i < items.length; i++) {
    if (items[i]!.batchIndex < items[i - 1]!.batchIndex) {
      return [...items].sort((a, b) => a.batchIndex - b.batchIndex);
    }
  }
  return items as BatchItemOutput[];
}

/**
 * The value of a non-batch reference, or `undefined` when it names a node whose output is not in
 * `ctx` yet. Batch markers are not values and also give `undefined`.
 */
export function referenceValue(ref: InputReference, ctx: ExpansionContext): unknown {
  if (ref.kind === 'literalBatch') return undefined;
  if (ref.kind === 'flowInput') return ref.batch ? undefined : valueAtPath(ctx.flowInput, ref.path);
  if (ref.relation === 'batch' || ref.relation === 'waitAnyBatch') return undefined;
  const output = ctx.outputs.get(ref.nodeName);
  return output ? valueAtPath(nodeOutputValue(output), ref.path) : undefined;
}

/**
 * Resolves the `@...` references inside any JSON value. References to nodes without a known
 * output, and batch markers, are left as their text (so `plan` can show them).
 */
export function resolveInputValue(value: unknown, ctx: ExpansionContext): unknown {
  if (isReferenceText(value)) {
    const resolved = referenceValue(parseReference(value), ctx);
    return resolved === undefined ? value : resolved;
  }
  if (Array.isArray(value)) return value.map((v) => resolveInputValue(v, ctx));
  if (value !== null && typeof value === 'object') {
    // fromEntries defines own properties, so a `__proto__` key stays data.
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveInputValue(v, ctx)]));
  }
  return value;
}
