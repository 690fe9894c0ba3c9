import { describe, expect, it } from 'vitest';
import {
  collectReferences,
  isBatchMarker,
  isReferenceText,
  parseReference,
  ReferenceSyntaxError,
} from '../../../shared/pipeline/input-reference.ts';

describe('parseReference', () => {
  it.each([
    ['@A', 'input'],
    ['#@A', 'batch'],
    ['*@A', 'waitAny'],
    ['*#@A', 'waitAnyBatch'],
  ] as const)('reads %s as relation %s', (text, relation) => {
    expect(parseReference(text)).toEqual({ kind: 'node', relation, nodeName: 'A', path: [], text });
  });

  it('splits the path at dots, keeping numeric segments as text', () => {
    expect(parseReference('@Node.items.0.name')).toMatchObject({
      nodeName: 'Node',
      path: ['items', '0', 'name'],
    });
  });

  it('reads @flowInput and #@flowInput as flowInput references', () => {
    expect(parseReference('@flowInput.files.links')).toEqual({
      kind: 'flowInput',
      batch: false,
      path: ['files', 'links'],
      text: '@flowInput.files.links',
    });
    expect(parseReference('#@flowInput.arr')).toMatchObject({ kind: 'flowInput', batch: true });
    expect(parseReference('*#@flowInput.arr')).toMatchObject({ kind: 'flowInput', batch: true });
    expect(parseReference('*@flowInput')).toMatchObject({ kind: 'flowInput', batch: false, path: [] });
  });

  it('reads #[...] as a lazy literal batch', () => {
    const ref = parseReference('#[x, 1...3]');
    if (ref.kind !== 'literalBatch') throw new Error('expected a literal batch');
    expect(Array.from({ length: ref.items.length }, (_, i) => ref.items.at(i))).toEqual(['x', 1, 2, 3]);
  });

  it.each(['@', '#@', '@A.', '@.x', '@A..b', '*#@'])('rejects the malformed reference %s', (text) => {
    expect(() => parseReference(text)).toThrow(ReferenceSyntaxError);
  });
});

describe('isReferenceText', () => {
  it('recognizes only the five prefixes', () => {
    expect(['@a', '#@a', '*@a', '*#@a', '#[1]'].every(isReferenceText)).toBe(true);
    expect(['a@b', '#a', '*a', ' @a', '', 5, null, ['@a']].some(isReferenceText)).toBe(false);
  });
});

describe('isBatchMarker', () => {
  it('marks #@, *#@, #[ and #@flowInput, not @ or *@', () => {
    const marks = ['@A', '#@A', '*@A', '*#@A', '#[1]', '#@flowInput.x', '@flowInput.x'].map((t) =>
      isBatchMarker(parseReference(t)),
    );
    expect(marks).toEqual([false, true, false, true, true, true, false]);
  });
});

describe('collectReferences', () => {
  it('finds references at any depth, depth-first in input order, with their location', () => {
    const refs = collectReferences(['#@A', { x: ['plain', '@B.y'], z: '#[1,2]' }, null, 7]);
    expect(refs.map((r) => [r.ref.text, r.location])).toEqual([
      ['#@A', 'input[0]'],
      ['@B.y', 'input[1].x[1]'],
      ['#[1,2]', 'input[1].z'],
    ]);
  });

  it('names the location of a malformed leaf', () => {
    try {
      collectReferences([{ a: ['@'] }]);
      expect.unreachable();
    } catch (err) {
      expect((err as ReferenceSyntaxError).location).toBe('input[0].a[0]');
    }
  });

  it('walks a deeply nested input without overflowing the stack', () => {
    let deep: unknown = '@A';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(collectReferences(deep)).toHaveLength(1);
  });
});
