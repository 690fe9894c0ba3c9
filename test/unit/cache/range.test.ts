import { describe, expect, it } from 'vitest';
import {
  blockCount,
  blockLength,
  blockRange,
  firstBlockHint,
  parseRange,
} from '../../../shared/cache/range.ts';

describe('parseRange', () => {
  it('reads one byte range against the size', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
  });

  it('says unsatisfiable when the range starts past the end', () => {
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
  });

  it('ignores what it cannot serve as one range: absent, bad syntax, several, reversed, empty objects', () => {
    expect(parseRange(undefined, 1000)).toBeUndefined();
    expect(parseRange('items=0-1', 1000)).toBeUndefined();
    expect(parseRange('bytes=0-1,5-9', 1000)).toBeUndefined();
    expect(parseRange('bytes=9-5', 1000)).toBeUndefined();
    expect(parseRange('bytes=0-10', 0)).toBeUndefined();
  });
});

describe('blocks', () => {
  it('maps positions onto fixed blocks, the last one short', () => {
    expect(blockCount(0, 10)).toBe(0);
    expect(blockCount(25, 10)).toBe(3);
    expect(blockRange(2, 10, 25)).toEqual({ start: 20, end: 24 });
    expect(blockLength(1, 10, 25)).toBe(10);
    expect(blockLength(2, 10, 25)).toBe(5);
  });

  it('guesses the first block a Range needs before the size is known', () => {
    expect(firstBlockHint('bytes=25-30', 10)).toBe(2);
    expect(firstBlockHint('bytes=-5', 10)).toBe(0);
    expect(firstBlockHint(undefined, 10)).toBe(0);
  });
});
