import { describe, expect, it } from 'vitest';
import { MAX_BATCH_ITEMS } from '../../../shared/pipeline/constants.ts';
import {
  LiteralBatchSyntaxError,
  literalBatchList,
  literalBatchSize,
  parseLiteralBatch,
} from '../../../shared/pipeline/literal-batch.ts';

describe('parseLiteralBatch', () => {
  it('expands inclusive ranges to numbers and keeps every other item as its trimmed text', () => {
    expect(parseLiteralBatch('#[a, 1...3,  b c , 7, 007]')).toEqual(['a', 1, 2, 3, 'b c', '7', '007']);
  });

  it('gives 23 items for the HKube example, "hello" a string and 5 a number', () => {
    const items = parseLiteralBatch('#[hello, 1...10, world, 10...20]');
    expect(items).toHaveLength(23);
    expect(items[0]).toBe('hello');
    expect(items[5]).toBe(5);
    expect(items[11]).toBe('world');
  });

  it('keeps listed numbers as their exact text: no lost zeros, no "too large"', () => {
    expect(parseLiteralBatch('#[9,8,7]')).toEqual(['9', '8', '7']);
    expect(parseLiteralBatch('#[007, 9007199254740993, -0, +5]')).toEqual([
      '007',
      '9007199254740993',
      '-0',
      '+5',
    ]);
  });

  it('treats a descending range as empty and #[] as no items', () => {
    expect(parseLiteralBatch('#[9...0]')).toEqual([]);
    expect(parseLiteralBatch('#[]')).toEqual([]);
    expect(parseLiteralBatch('#[ 5...5 ]')).toEqual([5]);
  });

  it('accepts negative ranges and leaves decimals as strings', () => {
    expect(parseLiteralBatch('#[-1...1, 1.5]')).toEqual([-1, 0, 1, '1.5']);
  });

  it.each([
    ['#[1.5...3]', 'is not a range of integers'],
    ['#[a...b]', 'is not a range of integers'],
    ['#[1,,2]', 'has an empty item'],
    ['#[1, 2', 'must be of the form'],
    ['#[99999999999999999999...1]', 'is too large'],
    [`#[1...${MAX_BATCH_ITEMS + 1}]`, `more than ${MAX_BATCH_ITEMS} items`],
  ])('rejects %s with a clear reason', (text, reason) => {
    expect(() => parseLiteralBatch(text)).toThrow(LiteralBatchSyntaxError);
    expect(() => parseLiteralBatch(text)).toThrow(reason);
  });

  it('sizes a batch without building it', () => {
    expect(literalBatchSize('#[1...1000000]')).toBe(1_000_000);
    expect(literalBatchSize('#[x, 3...1, 1...2]')).toBe(3);
  });

  it('rejects a huge range quickly instead of allocating it', () => {
    const started = performance.now();
    expect(() => parseLiteralBatch('#[0...9007199254740990]')).toThrow('more than');
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('literalBatchList', () => {
  it('reads item i on demand across values and ranges, skipping empty ranges', () => {
    const list = literalBatchList('#[a, 5...3, 10...12, b, 1...999990]');
    expect(list.length).toBe(999_995);
    expect([0, 1, 3, 4, 5, 999_994].map((i) => list.at(i))).toEqual(['a', 10, 12, 'b', 1, 999_990]);
    expect(list.at(999_995)).toBeUndefined();
    expect(list.at(-1)).toBeUndefined();
  });

  it('agrees with the materialized items', () => {
    const text = '#[-3...-1, x, 7, 2...4, y]';
    const list = literalBatchList(text);
    expect(Array.from({ length: list.length }, (_, i) => list.at(i))).toEqual(parseLiteralBatch(text));
  });
});
