import { describe, expect, it } from 'vitest';
import { BlockIndex } from '../../../shared/cache/block-index.ts';

const entry = (object: string, n: number, bytes = 100) => ({
  key: `${object}.${n}`,
  object,
  bytes,
  verified: true,
});

describe('BlockIndex', () => {
  it('evicts least recently used blocks first, until the new block fits', () => {
    const ix = new BlockIndex();
    ix.setObject('a', 'v1', 10);
    for (let n = 0; n < 5; n++) ix.add(entry('a', n));
    expect(ix.bytes).toBe(510);
    ix.touch('a.0');
    const gone = ix.evictFor(200, 500);
    expect(gone.map((e) => e.key)).toEqual(['a.1', 'a.2', 'a.3']);
    expect(ix.bytes + 200).toBeLessThanOrEqual(500);
    expect(ix.blocksOf('a').sort()).toEqual(['a.0', 'a.4']);
  });

  it('tracks objects: version, meta bytes, emptiness, dropping', () => {
    const ix = new BlockIndex();
    ix.setObject('a', 'v1', 10, 7);
    ix.add(entry('a', 0));
    expect(ix.versionOf('a')).toBe('v1');
    expect(ix.seenAt('a')).toBe(7);
    ix.remove('a.0');
    expect(ix.isEmptyObject('a')).toBe(true);
    ix.add(entry('a', 1));
    expect(ix.dropObject('a').map((e) => e.key)).toEqual(['a.1']);
    expect(ix.bytes).toBe(0);
    expect(ix.objectCount).toBe(0);
    expect(() => ix.add(entry('b', 0))).toThrow(/before its object/);
  });
});
