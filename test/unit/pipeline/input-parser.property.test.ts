// Property tests: whatever the input, the pipeline language answers with a result or a
// ValidationError, never another exception and never a hang.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../shared/errors.ts';
import {
  buildDag,
  collectResults,
  type Expansion,
  expandNode,
  type NodeOutput,
  parseReference,
  planPipeline,
  validatePipeline,
} from '../../../shared/pipeline/index.ts';
import { ReferenceSyntaxError } from '../../../shared/pipeline/input-reference.ts';
import { LiteralBatchSyntaxError, parseLiteralBatch } from '../../../shared/pipeline/literal-batch.ts';
import { parsePipelineText } from '../../../shared/pipeline/parse-text.ts';

const RUNS = 300;

function onlyThrows(fn: () => unknown, ...allowed: Array<new (...args: never[]) => Error>): void {
  try {
    fn();
  } catch (err) {
    if (!allowed.some((cls) => err instanceof cls)) throw err;
  }
}

const prefix = fc.constantFrom('@', '#@', '*@', '*#@', '#[');
const referenceLike = fc
  .tuple(
    prefix,
    fc.string({
      unit: fc.constantFrom('A', 'B', 'flowInput', '.', '0', '1', ',', '...', ' ', 'x', ']', '-', '@'),
    }),
  )
  .map(([p, rest]) => p + rest);

describe('input language properties', () => {
  it('parseReference returns a reference or a ReferenceSyntaxError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          referenceLike,
          fc.string().map((s) => `@${s}`),
        ),
        (text) => {
          onlyThrows(() => parseReference(text), ReferenceSyntaxError);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('parseLiteralBatch is bounded: at most 1,000,000 items or a syntax error, quickly', () => {
    const item = fc.oneof(
      fc.integer({ min: -1e15, max: 1e15 }).map(String),
      fc
        .tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -1e12, max: 1e12 }))
        .map(([a, b]) => `${a}...${b}`),
      fc.string({ maxLength: 5 }),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), (items) => {
        const text = `#[${items.join(',')}]`;
        const started = performance.now();
        try {
          expect(parseLiteralBatch(text).length).toBeLessThanOrEqual(1_000_000);
        } catch (err) {
          if (!(err instanceof LiteralBatchSyntaxError)) throw err;
        }
        expect(performance.now() - started).toBeLessThan(2000);
      }),
      { numRuns: 100 },
    );
  });

  it('parsePipelineText returns a value or a ValidationError for any text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.json().map((j) => j.slice(0, -1)),
        ),
        (text) => {
          onlyThrows(() => parsePipelineText(text, 'f'), ValidationError);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('validatePipeline returns a pipeline or a ValidationError for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        onlyThrows(() => validatePipeline(raw), ValidationError);
      }),
      { numRuns: RUNS },
    );
  });
});

const nodeNames = ['A', 'B', 'C', 'D'];
const leaf = fc.oneof(
  fc.constantFrom(
    '@A',
    '#@A',
    '*@A',
    '*#@A',
    '@B.0',
    '#@B.list',
    '*@B',
    '@C.x.1',
    '#@C',
    '*#@C',
    '@D',
    '#@D',
    '@flowInput.x',
    '#@flowInput.list',
    '#@flowInput.x',
    '*#@flowInput.list',
    '@flowInput.nope',
    '#[1...3]',
    '#[a, b]',
    '#[]',
    '#[3...1]',
    '#[',
    '@',
    'plain',
    'a@b',
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const input = fc.array(
  fc.oneof(leaf, fc.array(leaf, { maxLength: 2 }), fc.dictionary(fc.constantFrom('k', 'v'), leaf)),
  {
    maxLength: 4,
  },
);
const descriptor = fc.record({
  name: fc.constantFrom('p', 'bad name'),
  nodes: fc.uniqueArray(
    fc.record({
      nodeName: fc.constantFrom(...nodeNames),
      algorithmName: fc.constant('algo'),
      input,
      batchOperation: fc.constantFrom('indexed', 'cartesian'),
    }),
    { minLength: 1, maxLength: 4, selector: (n) => n.nodeName },
  ),
  flowInput: fc.record({
    x: fc.jsonValue({ maxDepth: 2 }),
    list: fc.oneof(fc.array(fc.integer(), { maxLength: 4 }), fc.object()),
  }),
});

/** What a finished node could have produced: random results, some items failed. */
function simulate(expansion: Expansion, seed: number): NodeOutput {
  if (expansion.kind === 'skipped') return { kind: 'skipped' };
  const resultFor = (k: number) => (k % 3 === 0 ? [k, k + 1] : { x: [k], list: [k] });
  if (expansion.kind === 'single') return { kind: 'single', status: 'succeeded', result: resultFor(seed) };
  return {
    kind: 'batch',
    items: expansion.tasks.map((t, i) =>
      (i + seed) % 4 === 1
        ? { batchIndex: t.batchIndex ?? i + 1, status: 'failed' as const, error: 'x' }
        : { batchIndex: t.batchIndex ?? i + 1, status: 'succeeded' as const, result: resultFor(i) },
    ),
  };
}

describe('whole-pipeline property', () => {
  it('a valid descriptor plans, expands in order and collects results without other exceptions', () => {
    let validCount = 0;
    fc.assert(
      fc.property(descriptor, fc.nat(10), (raw, seed) => {
        let pipeline: ReturnType<typeof validatePipeline>;
        try {
          pipeline = validatePipeline(raw);
        } catch (err) {
          if (err instanceof ValidationError) return;
          throw err;
        }
        validCount++;
        const dag = buildDag(pipeline);
        planPipeline(pipeline);
        const outputs = new Map<string, NodeOutput>();
        for (const name of dag.order) {
          const expansion = expandNode(pipeline, dag, name, { flowInput: pipeline.flowInput, outputs });
          if (expansion.kind === 'batch') expect(expansion.tasks.length).toBeGreaterThan(0);
          outputs.set(name, simulate(expansion, seed));
        }
        const results = collectResults(pipeline, dag, outputs);
        expect(results.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
    // The generator must reach the expansion code, not only the validator.
    expect(validCount).toBeGreaterThan(RUNS / 20);
  });
});
