// Every route that takes a request body rejects a field it does not know with 400 naming the field,
// before it looks anything up, and accepts the body it documents.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DYNAMIC_WAIT_TASKS } from '../../../shared/api/exec-dynamic.ts';
import { MultipartForm } from '../../../shared/api/multipart.ts';
import { routes } from '../../../shared/api/route-table.ts';
import { handleApi } from '../../../shared/api/router.ts';
import type { SluiceService } from '../../../shared/api/service.ts';
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

/** A body each route accepts as far as its shape goes (the names in it need not exist). */
function plausibleBody(method: string, path: string): Record<string, unknown> {
  if (path.startsWith('/store/algorithms') && !path.endsWith('/upload'))
    return { name: 'algo-x', env: 'command', command: ['true'] };
  if (path.startsWith('/store/pipelines') || path === '/exec/raw')
    return { name: 'p', nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }] };
  const r = routes().find((x) => x.method === method && x.path === path);
  const schema = r?.body && 'schema' in r.body ? (r.body.schema as { required?: string[] }) : {};
  return Object.fromEntries((schema.required ?? []).map((k) => [k, 'x']));
}

describe('request bodies', () => {
  const bodyRoutes = routes().filter((r) => r.body);

  it('covers the routes that take bodies', () => {
    const keys = bodyRoutes.map((r) => `${r.method} ${r.path}`);
    for (const k of ['POST /exec/caching', 'POST /exec/rerun', 'POST /cron/start', 'POST /cron/stop']) {
      expect(keys).toContain(k);
    }
  });

  it('every body-taking route answers 400 naming an unknown field, and stores or starts nothing', async () => {
    const s = await service();
    for (const r of bodyRoutes) {
      if (r.bodyMediaType === 'multipart/form-data') {
        // A form: its fields are checked as a JSON body's are.
        const form = new MultipartForm(0);
        form.fields.payload = JSON.stringify(plausibleBody(r.method, r.path));
        form.fields.zzUnknownField = '1';
        const res = await handleApi(s, { method: r.method, path: r.path, query: {}, body: form });
        expect(res.status, `${r.method} ${r.path}`).toBe(400);
        expect((res.body as { error: { field?: string } }).error.field).toBe('zzUnknownField');
        continue;
      }
      const path = r.path.replace(/\{(\w+)\}/g, 'x');
      const body = { ...plausibleBody(r.method, r.path), zzUnknownField: 1 };
      const res = await handleApi(s, { method: r.method, path, query: {}, body });
      expect(res.status, `${r.method} ${r.path}`).toBe(400);
      const err = (res.body as { error: { code: number; message: string; field?: string } }).error;
      expect(err.code, `${r.method} ${r.path}`).toBe(400);
      expect(err.message, `${r.method} ${r.path}`).toContain('zzUnknownField');
      expect(err.field, `${r.method} ${r.path}`).toBe('zzUnknownField');
    }
    expect(await s.deps.registry.listPipelines()).toEqual([]);
    expect(await s.deps.registry.listAlgorithms()).toEqual([]);
    expect(await s.deps.jobs.listJobs({ limit: 10 })).toEqual([]);
  });

  it('names the allowed fields, and checks types and required fields before lookups', async () => {
    const s = await service();
    const stop = await handleApi(s, {
      method: 'POST',
      path: '/exec/stop',
      query: {},
      body: { jobID: 'abc' },
    });
    expect(stop).toEqual({
      status: 400,
      body: {
        error: {
          code: 400,
          type: 'VALIDATION_ERROR',
          field: 'jobID',
          message:
            'unknown field "jobID" in POST /exec/stop (allowed: jobId, pipelineName, status, startTime, reason)',
        },
      },
    });
    const typed = await handleApi(s, {
      method: 'POST',
      path: '/exec/caching',
      query: {},
      body: { jobId: 7 },
    });
    expect(typed.status).toBe(400);
    expect((typed.body as { error: { message: string } }).error.message).toBe(
      'jobId must be a string (also: nodeName is required)',
    );
    const notObject = await handleApi(s, { method: 'POST', path: '/cron/stop', query: {}, body: [] });
    expect(notObject.status).toBe(400);
    expect((notObject.body as { error: { message: string } }).error.message).toMatch(/must be a JSON object/);
    // A well-formed body still reaches the operation: an unknown job is 404.
    const known = await handleApi(s, {
      method: 'POST',
      path: '/exec/rerun',
      query: {},
      body: { jobId: 'nope' },
    });
    expect(known.status).toBe(404);
  });

  it('a dynamic wait naming more tasks than the route allows is a one-line 400', async () => {
    const s = await service();
    const wait = (n: number) =>
      handleApi(s, {
        method: 'POST',
        path: '/exec/dynamic/some-job/wait',
        query: {},
        body: { taskIds: Array.from({ length: n }, (_, i) => `t${i}`) },
      });
    const over = await wait(MAX_DYNAMIC_WAIT_TASKS + 1);
    expect(over.status).toBe(400);
    expect((over.body as { error: { message: string; field: string } }).error).toMatchObject({
      field: 'taskIds',
      message: `taskIds must have at most ${MAX_DYNAMIC_WAIT_TASKS} item(s)`,
    });
    // At the limit the body is accepted and the operation looks the job up: 404.
    expect((await wait(MAX_DYNAMIC_WAIT_TASKS)).status).toBe(404);
  });
});
