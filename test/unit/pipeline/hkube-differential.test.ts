// Differential property test against HKube's own published parser (@hkube/parsers, pinned): over
// generated flowInputs, paths and `#[...]` literals, Sluice resolves exactly what HKube resolves.
// Every input where the two differ on purpose is generated separately below and checked against
// the rule shared/pipeline/README.md ("Differences from HKube") documents, so a new difference
// fails here until it is either fixed or written down.
import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import {
  buildDag,
  expandNode,
  type Pipeline,
  parseReference,
  validatePipeline,
} from '../../../shared/pipeline/index.ts';
import { LiteralBatchSyntaxError, parseLiteralBatch } from '../../../shared/pipeline/literal-batch.ts';
import { lookupPath } from '../../../shared/pipeline/value-path.ts';

interface HkubeParsers {
  parser: {
    parse(options: { nodeInput: unknown[]; batchOperation?: string }): {
      batch: boolean;
      input: Array<{ input: unknown[] }> | unknown[];
    };
    checkFlowInput(options: { flowInput: unknown; nodeInput: unknown }): void;
    extractNodesFromInput(input: unknown): unknown[];
  };
  helpers: { getPath(object: unknown, path: string): unknown };
}
const hkube = createRequire(import.meta.url)('@hkube/parsers') as HkubeParsers;

/** Fixed seed and a bounded run count: the suite stays deterministic and takes well under a second. */
const RUNS = { seed: 0x5a1ce, numRuns: 400 };

/** HKube leaves `undefined` where JSON has `null` (and -0 where JSON has 0): compare as JSON. */
const asJson = (value: unknown) => JSON.parse(JSON.stringify(value ?? null)) as unknown;

// ---------------------------------------------------------------------------------------- paths

const KEYS = ['a', 'b', '0', '1', '01', '00', 'length', '-1', '+1', 'x y', ' 1', '10'];
const key = fc.constantFrom(...KEYS);
const jsonTree = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, 0, 7, '', 'abc', 'x y'),
    fc.string({ maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
}));
const flowInput = fc.dictionary(key, jsonTree.value, { minKeys: 1, maxKeys: 5 });
const path = fc.array(key, { minLength: 1, maxLength: 4 });

function hkubeLookup(input: Record<string, unknown>, segments: string[]) {
  const reference = ['flowInput', ...segments].join('.');
  try {
    hkube.parser.checkFlowInput({ flowInput: input, nodeInput: [`@${reference}`] });
  } catch {
    return { found: false as const };
  }
  return { found: true as const, value: hkube.helpers.getPath({ flowInput: input }, reference) };
}

function singleNode(input: unknown[], flow: Record<string, unknown> = {}, extra = {}): Pipeline {
  return validatePipeline({
    name: 'differential',
    nodes: [{ nodeName: 'A', algorithmName: 'alg-a', input, ...extra }],
    flowInput: flow,
  });
}

describe('input paths resolve as in HKube', () => {
  it('lookupPath finds what HKube finds, with the same value', () => {
    fc.assert(
      fc.property(flowInput, path, (input, segments) => {
        const theirs = hkubeLookup(input, segments);
        const ours = lookupPath(input, segments);
        expect(ours.found).toBe(theirs.found);
        if (ours.found && theirs.found) expect(asJson(ours.value)).toEqual(asJson(theirs.value));
      }),
      RUNS,
    );
  });

  it('validation says "unable to find" exactly when HKube does, and the task gets its value', () => {
    fc.assert(
      fc.property(flowInput, path, (input, segments) => {
        const reference = `@flowInput.${segments.join('.')}`;
        const theirs = hkubeLookup(input, segments);
        if (!theirs.found) {
          expect(() => singleNode([reference], input)).toThrow(
            `unable to find flowInput.${segments.join('.')}`,
          );
          return;
        }
        const pipeline = singleNode([reference], input);
        const task = expandNode(pipeline, buildDag(pipeline), 'A', { flowInput: input, outputs: new Map() });
        expect(task.kind === 'single' && asJson(task.task.input)).toEqual([asJson(theirs.value)]);
      }),
      RUNS,
    );
  });

  it.each([
    [{ list: [1, 2, 3] }, 'list.length', 3],
    [{ s: 'abc' }, 's.length', 3],
    [{ s: 'abc' }, 's.0', 'a'],
    [{ list: ['x', 'y'] }, 'list.1', 'y'],
  ])('%j: @flowInput.%s is %j in both', (input, p, value) => {
    expect(hkubeLookup(input, p.split('.'))).toEqual({ found: true, value });
    expect(lookupPath(input, p.split('.'))).toEqual({ found: true, value });
  });

  it('`01` is not an index in either (a key of an object, though)', () => {
    expect(hkubeLookup({ list: [1, 2] }, ['list', '01'])).toEqual({ found: false });
    expect(() => singleNode(['@flowInput.list.01'], { list: [1, 2] })).toThrow(
      'unable to find flowInput.list.01',
    );
    expect(lookupPath({ o: { '01': 1 } }, ['o', '01'])).toEqual({ found: true, value: 1 });
  });

  it('difference: a node named flowInputX is a node in Sluice; HKube reads @flowInputX as flowInput', () => {
    expect(hkube.parser.extractNodesFromInput('@flowInputX.a')).toEqual([]);
    expect(parseReference('@flowInputX.a')).toMatchObject({
      kind: 'node',
      nodeName: 'flowInputX',
      path: ['a'],
    });
  });

  it('difference: an empty path segment is a syntax error in Sluice, a key "" in HKube', () => {
    expect(hkubeLookup({ a: { '': 1 } }, ['a', ''])).toEqual({ found: true, value: 1 });
    expect(() => singleNode(['@flowInput.a.'], { a: { '': 1 } })).toThrow('is not a valid reference');
  });
});

// ------------------------------------------------------------------------------ literal batches

const ws = fc.constantFrom('', ' ', '  ', '\t');
const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 1, maxLength: 22 });
const integerText = fc.tuple(fc.constantFrom('', '-', '+'), digits).map(([s, d]) => s + d);
/** Words HKube and Sluice read alike: no whitespace, comma, bracket or `...` inside. */
const word = fc
  .string({ unit: fc.constantFrom(...'abcXYZ_-+:/.0123456789'), minLength: 1, maxLength: 8 })
  .filter((w) => !w.includes('...'));
const range = (bound: number) =>
  fc
    .tuple(
      fc.integer({ min: -bound, max: bound }),
      fc.integer({ min: -bound, max: bound }),
      fc.boolean(),
      ws,
      ws,
    )
    .map(([a, b, zeros, w1, w2]) => `${zeros && a >= 0 ? `00${a}` : a}${w1}...${w2}${b}`);
const item = (bound: number) =>
  fc.tuple(ws, fc.oneof(word, integerText, range(bound)), ws).map(([l, t, r]) => l + t + r);
const literalOf = (maxItems: number, bound: number) =>
  fc.array(item(bound), { minLength: 1, maxLength: maxItems }).map((items) => `#[${items.join(',')}]`);
const literal = literalOf(6, 40);

function hkubeItems(nodeInput: unknown[], batchOperation = 'indexed'): unknown[] {
  const parsed = hkube.parser.parse({ nodeInput, batchOperation });
  return asJson((parsed.input as Array<{ input: unknown[] }>).map((i) => i.input)) as unknown[];
}

function sluiceItems(nodeInput: unknown[], batchOperation = 'indexed'): unknown[] {
  const pipeline = singleNode(nodeInput, {}, { batchOperation });
  const e = expandNode(pipeline, buildDag(pipeline), 'A', { flowInput: {}, outputs: new Map() });
  return e.kind === 'batch' ? (asJson(e.tasks.map((t) => t.input)) as unknown[]) : [];
}

describe('#[...] literals expand as in HKube', () => {
  it('one literal: the same items, strings kept as text, ranges as numbers', () => {
    fc.assert(
      fc.property(literal, (text) => {
        expect(sluiceItems([text])).toEqual(hkubeItems([text]));
      }),
      RUNS,
    );
  });

  it('several literals combine the same way, indexed and cartesian', () => {
    const small = literalOf(3, 4);
    fc.assert(
      fc.property(small, small, fc.constantFrom('indexed', 'cartesian'), (a, b, op) => {
        const input = [a, 'constant', b];
        expect(sluiceItems(input, op)).toEqual(hkubeItems(input, op));
      }),
      { ...RUNS, numRuns: 200 },
    );
  });

  it.each([
    ['#[9,8,7]', ['9', '8', '7']],
    ['#[hello, 1...3]', ['hello', 1, 2, 3]],
    ['#[007]', ['007']],
    ['#[9007199254740993]', ['9007199254740993']],
    ['#[3...1]', []],
  ])('%s gives %j in both', (text, items) => {
    expect(hkubeItems([text]).map((i) => (i as unknown[])[0])).toEqual(items);
    expect(sluiceItems([text]).map((i) => (i as unknown[])[0])).toEqual(items);
  });
});

/** Sluice's stricter rules for literals HKube reads leniently (README: "Differences from HKube"). */
describe('#[...] differences from HKube, each documented', () => {
  const rejected = (text: string) => {
    expect(() => parseLiteralBatch(text)).toThrow(LiteralBatchSyntaxError);
    expect(() => singleNode([text])).toThrow(ValidationError);
  };

  it('whitespace inside an item is kept (HKube removes every space)', () => {
    expect(hkubeItems(['#[a b]'])).toEqual([['ab']]);
    expect(sluiceItems(['#[a b]'])).toEqual([['a b']]);
  });

  it('empty items are an error, #[] and #[ ] have no items (HKube: "" items)', () => {
    expect(hkubeItems(['#[a,,b]'])).toEqual([['a'], [''], ['b']]);
    rejected('#[a,,b]');
    expect(hkubeItems(['#[]'])).toEqual([['']]);
    expect(parseLiteralBatch('#[]')).toEqual([]);
    expect(parseLiteralBatch('#[ ]')).toEqual([]);
  });

  it('a range must be two integers (HKube: parseInt of each side, NaN → no items)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('1.5...3', 'a...b', '1...', '...3', '1...3...5', '....', '0x10...0x12', '1e3...1e3'),
        (bad) => {
          expect(Array.isArray(hkubeItems([`#[${bad}]`]))).toBe(true);
          rejected(`#[${bad}]`);
        },
      ),
      { ...RUNS, numRuns: 20 },
    );
  });

  it('brackets inside, or text after the closing ], are errors or kept (HKube strips every bracket)', () => {
    expect(hkubeItems(['#[a[1],b]'])).toEqual([['a1'], ['b']]);
    expect(sluiceItems(['#[a[1],b]'])).toEqual([['a[1]'], ['b']]);
    expect(hkubeItems(['#[1,2]x'])).toEqual([['1'], ['2x']]);
    rejected('#[1,2]x');
    rejected('#[1,2');
  });

  it('a range over 1,000,000 items or past the safe integers is an error (HKube allocates it)', () => {
    rejected('#[1...2000000]');
    rejected('#[9007199254740993...9007199254740994]');
  });
});
