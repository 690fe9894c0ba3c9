// The framework-free router: matching, path parameters, error mapping — without HTTP.

import { afterEach, describe, expect, it } from 'vitest';
import { openApiDocument } from '../../../shared/api/openapi.ts';
import { handleApi, listRoutes } from '../../../shared/api/router.ts';
import { SluiceService } from '../../../shared/api/service.ts';
import { ConflictError, SluiceError } from '../../../shared/errors.ts';
import { openTestEngine, serviceOf, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function service(): Promise<SluiceService> {
  t = await openTestEngine();
  return serviceOf(t);
}

const req = (method: string, path: string, body?: unknown, query: Record<string, string> = {}) => ({
  method,
  path,
  query,
  ...(body !== undefined ? { body } : {}),
});

describe('handleApi', () => {
  it('runs a pipeline and answers 201, then 200 for its status (trailing slash accepted)', async () => {
    const s = await service();
    const sub = await handleApi(
      s,
      req('POST', '/exec/raw', {
        name: 'r',
        nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }],
      }),
    );
    expect(sub.status).toBe(201);
    const jobId = (sub.body as { jobId: string }).jobId;
    await t?.engine.waitForJob(jobId);
    const st = await handleApi(s, req('GET', `/exec/status/${jobId}/`));
    expect(st).toMatchObject({ status: 200, body: { jobId, status: 'completed' } });
  });

  it('holds a change until it is durable, but not the wait of a dynamic job (it changes nothing)', async () => {
    const s = await service();
    let synced = () => {};
    const sync = new Promise<void>((r) => {
      synced = r;
    });
    const held = new SluiceService({ ...s.deps, durable: () => sync });
    const created = await handleApi(
      s,
      req('POST', '/exec/dynamic', { name: 'd', nodes: [{ nodeName: 'n', algorithmName: 'echo' }] }),
    );
    const jobId = (created.body as { jobId: string }).jobId;
    const added = await handleApi(
      s,
      req('POST', `/exec/dynamic/${jobId}/tasks`, { nodeName: 'n', tasks: [{ key: 'k1', input: [1] }] }),
    );
    const taskId = (added.body as { tasks: { taskId: string }[] }).tasks[0]?.taskId as string;
    const waited = await handleApi(held, req('POST', `/exec/dynamic/${jobId}/wait`, { taskIds: [taskId] }));
    expect(waited).toMatchObject({ status: 200, body: { tasks: [{ taskId, status: 'succeeded' }] } });
    let closed = false;
    const close = handleApi(held, req('POST', `/exec/dynamic/${jobId}/close`, {})).then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    synced();
    await close;
    expect(closed).toBe(true);
  });

  it('decodes path parameters', async () => {
    const s = await service();
    const r = await handleApi(s, req('GET', '/store/pipelines/a%20b'));
    expect(r).toEqual({
      status: 404,
      body: { error: { code: 404, message: 'pipeline "a b" is not stored', type: 'PIPELINE_NOT_FOUND' } },
    });
  });

  it('tells an unknown route (404) from a wrong method (405)', async () => {
    const s = await service();
    expect((await handleApi(s, req('GET', '/nope'))).status).toBe(404);
    expect((await handleApi(s, req('GET', '/exec/status'))).status).toBe(404);
    expect((await handleApi(s, req('GET', '/exec/status/a/b'))).status).toBe(404);
    const wrong = await handleApi(s, req('PATCH', '/store/pipelines'));
    expect(wrong).toEqual({
      status: 405,
      body: {
        error: { code: 405, message: 'PATCH is not allowed on /store/pipelines', type: 'METHOD_NOT_ALLOWED' },
      },
    });
  });

  it('maps typed errors to their status and anything else to 500 INTERNAL', async () => {
    const s = await service();
    s.deps.registry.listPipelines = async () => {
      throw new ConflictError('busy', 'BUSY');
    };
    expect(await handleApi(s, req('GET', '/store/pipelines'))).toEqual({
      status: 409,
      body: { error: { code: 409, message: 'busy', type: 'BUSY' } },
    });
    s.deps.registry.listPipelines = async () => {
      throw new Error('disk on fire');
    };
    expect(await handleApi(s, req('GET', '/store/pipelines'))).toEqual({
      status: 500,
      body: { error: { code: 500, message: 'disk on fire', type: 'INTERNAL' } },
    });
    s.deps.registry.listAlgorithms = async () => {
      throw new SluiceError('store unavailable', 'STORE_DOWN', 503);
    };
    expect((await handleApi(s, req('GET', '/store/algorithms'))).status).toBe(500);
  });

  it("answers HKube's error shape: code is the HTTP status, Sluice's code is type, with the field", async () => {
    const s = await service();
    const r = await handleApi(
      s,
      req('POST', '/exec/raw', { name: 'p', nodes: [{ nodeName: 'A', algorithmName: 'X' }] }),
    );
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      error: {
        code: 400,
        type: 'INVALID_PIPELINE',
        field: 'nodes[0].algorithmName',
        message:
          'nodes[0].algorithmName must be lowercase letters, digits, - and ., starting and ending with a letter or digit',
      },
    });
  });

  it('passes the query to exec/jobs and validates it', async () => {
    const s = await service();
    expect(await handleApi(s, req('GET', '/exec/jobs', undefined, { limit: 'x' }))).toMatchObject({
      status: 400,
      body: { error: { code: 400, message: 'limit must be an integer between 1 and 10000' } },
    });
    expect(await handleApi(s, req('GET', '/exec/jobs', undefined, { status: 'completed' }))).toEqual({
      status: 200,
      body: [],
    });
  });

  it('has one route per method and path, all under the HKube names', () => {
    const keys = listRoutes().map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of [
      'POST /exec/raw',
      'POST /exec/stored',
      'POST /exec/stop',
      'POST /exec/caching',
      'POST /exec/rerun',
      'GET /exec/status/{jobId}',
      'GET /exec/results/{jobId}',
      'GET /exec/pipelines/{jobId}',
      'GET /exec/jobs',
      'GET /cron/list',
      'POST /cron/start',
      'POST /cron/stop',
      'GET /pipelines/triggers/tree',
      'GET /webhooks/status/{jobId}',
      'GET /webhooks/results/{jobId}',
      'GET /openapi.json',
      'GET /exec/logs/{jobId}',
      'GET /events',
    ]) {
      expect(keys).toContain(k);
    }
  });

  it('the OpenAPI document has a servers entry and describes the task logs response', () => {
    const doc = openApiDocument();
    expect(doc.servers).toEqual([{ url: '/', description: 'the host that served this document' }]);
    const logs = doc.paths['/api/v1/exec/logs/{jobId}']?.get as {
      responses: Record<string, { content: Record<string, { schema: { required: string[] } }> }>;
    };
    expect(logs.responses['200']?.content['application/json']?.schema.required).toEqual(['jobId', 'tasks']);
  });
});

describe('cron/list without a scheduler (no engine serving)', () => {
  it('still lists the stored cron triggers, without nextRun', async () => {
    const s = await service();
    await handleApi(
      s,
      req('POST', '/store/pipelines', {
        name: 'nightly',
        nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }],
        triggers: { cron: { pattern: '0 3 * * *' } },
      }),
    );
    expect(await handleApi(s, req('GET', '/cron/list'))).toEqual({
      status: 200,
      // As in HKube, a cron trigger stored without `enabled` does not fire until `cron start`.
      body: [{ name: 'nightly', pattern: '0 3 * * *', enabled: false }],
    });
  });
});

describe('cron/start and cron/stop', () => {
  it("start without a pattern uses HKube's default 0 * * * *; stop keeps it; stop without a trigger changes nothing", async () => {
    const s = await service();
    const plain = { name: 'plain', nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }] };
    await handleApi(s, req('POST', '/store/pipelines', plain));
    expect(await handleApi(s, req('POST', '/cron/stop', { name: 'plain' }))).toEqual({
      status: 200,
      body: { name: 'plain', enabled: false },
    });
    const before = (await handleApi(s, req('GET', '/store/pipelines/plain'))).body as {
      triggers?: { cron?: unknown };
    };
    expect(before.triggers?.cron).toBeUndefined();
    expect(await handleApi(s, req('POST', '/cron/start', { name: 'plain' }))).toEqual({
      status: 200,
      body: { name: 'plain', pattern: '0 * * * *', enabled: true },
    });
    const stored = (await handleApi(s, req('GET', '/store/pipelines/plain'))).body as {
      triggers: { cron: unknown };
    };
    expect(stored.triggers.cron).toEqual({ pattern: '0 * * * *', enabled: true });
    expect((await handleApi(s, req('POST', '/cron/stop', { name: 'plain' }))).body).toEqual({
      name: 'plain',
      pattern: '0 * * * *',
      enabled: false,
    });
    // A stored pattern wins over the default; a given one over both.
    expect((await handleApi(s, req('POST', '/cron/start', { name: 'plain' }))).body).toMatchObject({
      pattern: '0 * * * *',
    });
    expect(
      (await handleApi(s, req('POST', '/cron/start', { name: 'plain', pattern: '*/5 * * * *' }))).body,
    ).toEqual({ name: 'plain', pattern: '*/5 * * * *', enabled: true });
    expect((await handleApi(s, req('POST', '/cron/start', { name: 'missing' }))).status).toBe(404);
  });
});
