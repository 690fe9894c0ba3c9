// Parses `#[a, b, 1...9]` literal batches as HKube documents them: inclusive integer ranges become
// numbers (descending → none); every other item is its trimmed text, a string (`#[007]` is "007").
import { MAX_BATCH_ITEMS } from './constants.ts';

export type LiteralBatchItem = string | number;

/**
 * A list read by index: arrays are one, and so is a literal batch, whose items are computed on
 * demand so that `#[1...1000000]` costs nothing until a task needs item k.
 */
export interface ItemList<T = unknown> {
  readonly length: number;
  at(index: number): T | undefined;
}

export class LiteralBatchSyntaxError extends Error {
  override name = 'LiteralBatchSyntaxError';
}

const RANGE = /^([-+]?\d+)\s*\.\.\.\s*([-+]?\d+)$/;

type Part = { kind: 'value'; value: LiteralBatchItem } | { kind: 'range'; from: number; to: number };

/** `text` is the whole leaf, `#[` included. Throws LiteralBatchSyntaxError with a readable reason. */
export function parseLiteralBatch(text: string): LiteralBatchItem[] {
  const parts = parseParts(text);
  const items: LiteralBatchItem[] = [];
  for (const part of parts) {
    if (part.kind === 'value') items.push(part.value);
    else for (let n = part.from; n <= part.to; n++) items.push(n);
  }
  return items;
}

/** The item count without building the items (for `plan` and size checks). */
export function literalBatchSize(text: string): number {
  return parseParts(text).reduce((n, p) => n + partSize(p), 0);
}

/** The items as a lazy list: item i is found by binary search over the parts' start offsets. */
export function literalBatchList(text: string): ItemList<LiteralBatchItem> {
  const parts = parseParts(text).filter((p) => partSize(p) > 0);
  const starts: number[] = [];
  let length = 0;
  for (const part of parts) {
    starts.push(length);
    length += partSize(part);
  }
  return {
    length,
    at(index: number) {
      if (!Number.isInteger(index) || index < 0 || index >= length) return undefined;
      let lo = 0;
      let hi = parts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      const part = parts[lo]!;
      return part.kind === 'value' ? part.value : part.from + (index - starts[lo]!);
    },
  };
}

function partSize(p: Part): number {
  return p.kind === 'value' ? 1 : rangeSize(p);
}

function rangeSize(p: { from: number; to: number }): number {
  return p.to >= p.from ? p.to - p.from + 1 : 0;
}

function parseParts(text: string): Part[] {
  if (!text.startsWith('#[') || !text.endsWith(']')) {
    throw new LiteralBatchSyntaxError(`"${text}" must be of the form #[item, item, from...to]`);
  }
  const body = text.slice(2, -1);
  if (body.trim() === '') return [];
  const parts: Part[] = [];
  let total = 0;
  for (const raw of body.split(',')) {
    const item = raw.trim();
    if (item === '') throw new LiteralBatchSyntaxError(`"${text}" has an empty item`);
    const range = RANGE.exec(item);
    if (range) {
      const from = toSafeInteger(range[1]!, text);
      const to = toSafeInteger(range[2]!, text);
      const part = { kind: 'range', from, to } as const;
      total += rangeSize(part);
      parts.push(part);
    } else if (item.includes('...')) {
      throw new LiteralBatchSyntaxError(`"${item}" in "${text}" is not a range of integers (from...to)`);
    } else {
      // Kept as text, exactly: a number would lose `007`'s zeros or 9007199254740993's last digit.
      parts.push({ kind: 'value', value: item });
      total += 1;
    }
    if (total > MAX_BATCH_ITEMS) {
      throw new LiteralBatchSyntaxError(`"${text}" has more than ${MAX_BATCH_ITEMS} items`);
    }
  }
  return parts;
}

function toSafeInteger(digits: string, text: string): number {
  const n = Number(digits);
  if (!Number.isSafeInteger(n)) throw new LiteralBatchSyntaxError(`${digits} in "${text}" is too large`);
  return n;
}
