// Recognizes the references of the input language in string leaves of a node's `input`:
// `@X.path` (input), `#@X.path` (batch), `*@X.path` (waitAny), `*#@X.path` (waitAnyBatch),
// `#[...]` (literal batch). X is `flowInput` or a node name; numeric path segments index arrays.
import { FLOW_INPUT } from './constants.ts';
import {
  type ItemList,
  type LiteralBatchItem,
  LiteralBatchSyntaxError,
  literalBatchList,
} from './literal-batch.ts';
import type { RelationType } from './types.ts';

export type InputReference =
  | { kind: 'node'; relation: RelationType; nodeName: string; path: string[]; text: string }
  | { kind: 'flowInput'; batch: boolean; path: string[]; text: string }
  /** `items` is lazy: a huge literal is never materialized by parsing or validation. */
  | { kind: 'literalBatch'; items: ItemList<LiteralBatchItem>; text: string };

export class ReferenceSyntaxError extends Error {
  override name = 'ReferenceSyntaxError';
  constructor(
    message: string,
    /** Where the leaf sits in the node (`input[0].files`), when known. */
    readonly location?: string,
  ) {
    super(message);
  }
}

const PREFIXES: ReadonlyArray<[string, RelationType]> = [
  ['*#@', 'waitAnyBatch'],
  ['*@', 'waitAny'],
  ['#@', 'batch'],
  ['@', 'input'],
];

/** Whether a leaf is a reference at all (everything else passes through unchanged). */
export function isReferenceText(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    (value.startsWith('@') ||
      value.startsWith('#@') ||
      value.startsWith('*@') ||
      value.startsWith('*#@') ||
      value.startsWith('#['))
  );
}

/** Parses one reference leaf. Throws ReferenceSyntaxError when it starts like one but is malformed. */
export function parseReference(text: string): InputReference {
  if (text.startsWith('#[')) {
    try {
      return { kind: 'literalBatch', items: literalBatchList(text), text };
    } catch (err) {
      if (err instanceof LiteralBatchSyntaxError) throw new ReferenceSyntaxError(err.message);
      throw err;
    }
  }
  const prefix = PREFIXES.find(([p]) => text.startsWith(p));
  if (!prefix) throw new ReferenceSyntaxError(`"${text}" is not a reference`);
  const [marker, relation] = prefix;
  const segments = text.slice(marker.length).split('.');
  const [name, ...path] = segments;
  if (!name || segments.some((s) => s === '')) {
    throw new ReferenceSyntaxError(
      `"${text}" is not a valid reference (expected ${marker}Name or ${marker}Name.path)`,
    );
  }
  if (name === FLOW_INPUT) {
    return { kind: 'flowInput', batch: relation === 'batch' || relation === 'waitAnyBatch', path, text };
  }
  return { kind: 'node', relation, nodeName: name, path, text };
}

/** A reference that makes its node a batch by itself (`*@X` only does when X is a batch node). */
export function isBatchMarker(ref: InputReference): boolean {
  if (ref.kind === 'literalBatch') return true;
  if (ref.kind === 'flowInput') return ref.batch;
  return ref.relation === 'batch' || ref.relation === 'waitAnyBatch';
}

export interface LocatedReference {
  ref: InputReference;
  /** Where the leaf sits, for error messages: `input[0].files[2]`. */
  location: string;
}

/**
 * Every reference in an input value, depth-first in input order (the order batch markers combine
 * in). Iterative, so a deeply nested input cannot overflow the stack.
 */
export function collectReferences(input: unknown, location = 'input'): LocatedReference[] {
  const found: LocatedReference[] = [];
  const stack: Array<{ value: unknown; location: string }> = [{ value: input, location }];
  while (stack.length > 0) {
    const { value, location: at } = stack.pop()!;
    if (isReferenceText(value)) {
      try {
        found.push({ ref: parseReference(value), location: at });
      } catch (err) {
        if (err instanceof ReferenceSyntaxError) throw new ReferenceSyntaxError(err.message, at);
        throw err;
      }
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], location: `${at}[${i}]` });
    } else if (value !== null && typeof value === 'object') {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i]!;
        stack.push({ value: child, location: `${at}.${key}` });
      }
    }
  }
  return found;
}
