// A bounded fuzz of the REST API through its real HTTP server: random methods, paths (with broken
// percent-encoding), queries and bodies (random JSON, descriptor-shaped objects with hostile names,
// bytes that are not UTF-8, wrong content types). Fixed seed, a few hundred requests, seconds.
// Every answer is below 500 and, when an error, has HKube's shape with Sluice's type.
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echo } from '../../shared/builtins/echo.ts';
import type { BuiltinAlgorithm } from '../../shared/ports/builtin-algorithm.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { startTestHost, testBuiltins } from '../helpers/engine.ts';

const SEED = Number(process.env.SLUICE_FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.SLUICE_FUZZ_RUNS ?? 300);

// Only harmless built-ins: a fuzzed pipeline must never reach cp, rm, zip or fetch.
const builtins = new Map<string, BuiltinAlgorithm>([['echo', echo]]);
for (const b of testBuiltins) if (b.name === 'maybe-fail') builtins.set(b.name, b);

let h: Awaited<ReturnType<typeof startTestHost>>;
beforeAll(async () => {
  h = await startTestHost({
    builtins,
    runner: new InlineRunner(builtins, 2),
    bodyLimits: { maxBodyBytes: 64 * 1024, maxBufferedBytes: 256 * 1024 },
  });
});
afterAll(async () => {
  await h?.close();
});

const ROUTES = [
  '/cron/list',
  '/cron/start',
  '/cron/stop',
  '/exec/caching',
  '/exec/jobs',
  '/exec/pipelines/{p}',
  '/exec/raw',
  '/exec/rerun',
  '/exec/results/{p}',
  '/exec/status/{p}',
  '/exec/stop',
  '/exec/stored',
  '/exec/tasks/{p}',
  '/openapi.json',
  '/pipelines/triggers/tree',
  '/store/algorithms',
  '/store/algorithms/{p}',
  '/store/pipelines',
  '/store/pipelines/{p}',
  '/webhooks/results/{p}',
  '/webhooks/status/{p}',
  '/nothing',
  '/exec',
  '/',
];

const hostileName = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'toString',
    'flowInput',
    'a.b',
    'a#b',
    '',
    ' ',
    'x'.repeat(300),
  ),
  fc.string({ maxLength: 12 }),
);
const pathParam = fc.oneof(
  hostileName.map(encodeURIComponent),
  fc.constantFrom('%E0%A4%A', '%FF', '%', '%00', '..%2F..', 'nope'),
);
const node = fc.record(
  {
    nodeName: hostileName,
    algorithmName: fc.oneof(fc.constantFrom('echo', 'maybe-fail', 'unknown'), fc.string({ maxLength: 8 })),
    input: fc.array(
      fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        hostileName.map((n) => `@${n}`),
        hostileName.map((n) => `#@${n}`),
      ),
      { maxLength: 3 },
    ),
    kind: fc.constantFrom('algorithm', 'debug', 'gateway', 'other'),
  },
  { requiredKeys: ['nodeName', 'algorithmName'] },
);
const descriptor = fc.record(
  {
    name: hostileName,
    nodes: fc.array(node, { maxLength: 4 }),
    flowInput: fc.dictionary(hostileName, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
    priority: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.string({ maxLength: 2 })),
    triggers: fc.record({ pipelines: fc.array(hostileName, { maxLength: 2 }) }),
    options: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }),
    jobId: fc.string({ maxLength: 8 }),
    nodeName: hostileName,
    env: fc.constantFrom('nodejs', 'python', 'command', 'java'),
  },
  { requiredKeys: [] },
);
// Mostly valid: a small chain of echo nodes, one part of it replaced by something hostile.
const nearlyValid = fc
  .record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
    names: fc.uniqueArray(fc.stringMatching(/^[A-Za-z][\w-]{0,6}$/), { minLength: 1, maxLength: 3 }),
    hostile: fc.option(
      fc.record({ key: fc.constantFrom('nodeName', 'input', 'algorithmName'), value: hostileName }),
    ),
    x: fc.jsonValue({ maxDepth: 2 }),
  })
  .map(({ name, names, hostile, x }) => ({
    name,
    nodes: names.map((n, i) => ({
      nodeName: n,
      algorithmName: 'echo',
      input: [i === 0 ? '@flowInput.x' : `@${names[i - 1]}`],
      ...(hostile && i === names.length - 1
        ? { [hostile.key]: hostile.key === 'input' ? [`@${hostile.value}`] : hostile.value }
        : {}),
    })),
    flowInput: { x },
  }));
const body = fc.oneof(
  {
    arbitrary: nearlyValid.map((d) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(d)) })),
    weight: 4,
  },
  descriptor.map((d) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(d)) })),
  fc
    .jsonValue({ maxDepth: 3 })
    .map((v) => ({ type: 'application/json', bytes: Buffer.from(JSON.stringify(v)) })),
  fc.uint8Array({ maxLength: 64 }).map((b) => ({ type: 'application/json', bytes: Buffer.from(b) })),
  fc.string({ maxLength: 40 }).map((s) => ({ type: 'text/plain', bytes: Buffer.from(s) })),
  fc.constant({ type: 'application/json', bytes: Buffer.alloc(70 * 1024, 0x20) }),
  { arbitrary: fc.constant(undefined), weight: 2 },
);
const requestArb = fc.record({
  method: fc.oneof(
    { arbitrary: fc.constant('POST'), weight: 3 },
    fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH'),
  ),
  route: fc.oneof(
    { arbitrary: fc.constantFrom('/exec/raw', '/store/pipelines'), weight: 2 },
    { arbitrary: fc.constantFrom(...ROUTES), weight: 3 },
  ),
  param: pathParam,
  query: fc.dictionary(
    fc.constantFrom('status', 'pipelineName', 'limit', 'nodeName', 'x'),
    fc.string({ maxLength: 6 }),
    {
      maxKeys: 2,
    },
  ),
  body,
});

describe('fuzzed requests', () => {
  it(
    `${RUNS} random requests (seed ${SEED}): no 5xx, errors in HKube's shape`,
    async () => {
      const statuses = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(requestArb, async (r) => {
          const qs = new URLSearchParams(r.query).toString();
          const url = `${h.api}${r.route.replace('{p}', r.param)}${qs ? `?${qs}` : ''}`;
          const res = await fetch(url, {
            method: r.method,
            headers: { ...h.headers, ...(r.body ? { 'content-type': r.body.type } : {}) },
            ...(r.body && r.method !== 'GET' ? { body: r.body.bytes } : {}),
          });
          const text = await res.text();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          expect(res.status, `${r.method} ${url}: ${text}`).toBeLessThan(500);
          if (res.status >= 400) {
            const err = (JSON.parse(text) as { error: { code: number; type: string; message: string } })
              .error;
            expect(err.code).toBe(res.status);
            expect(typeof err.type).toBe('string');
            expect(err.message.length).toBeGreaterThan(0);
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true },
      );
      if (process.env.SLUICE_TEST_FIGURES) {
        console.error(`fuzzed ${RUNS} requests: ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
      }
    },
    60_000 + RUNS * 200,
  ); // ~30 ms a request alone; a loaded machine is several times slower
});
