// The job routes beyond one job, through the router on a real embedded engine: search (filters,
// sort, cursor paging), the trigger tree, exec/algorithm, bulk stop, the latest runs of a pipeline
// and of its cron trigger, and storing an array of pipelines with ?overwrite=true.
import { afterEach, describe, expect, it } from 'vitest';
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

async function call<T = unknown>(
  s: SluiceService,
  method: string,
  path: string,
  body?: unknown,
  query: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  return (await handleApi(s, { method, path, query, ...(body !== undefined ? { body } : {}) })) as {
    status: number;
    body: T;
  };
}

const echo = (name: string, value: unknown = 1) => ({
  name,
  nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [value] }],
});
const sleeper = (name: string) => ({
  name,
  nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [60_000] }],
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function runJob(s: SluiceService, pipeline: unknown): Promise<string> {
  const r = await call<{ jobId: string }>(s, 'POST', '/exec/raw', pipeline);
  await t?.engine.waitForJob(r.body.jobId);
  return r.body.jobId;
}

type Hit = { jobId: string; pipelineName: string; status: string; createdAt: string };

describe('exec/search', () => {
  it('filters by pipeline, status and time, sorts both ways and pages with a cursor', async () => {
    const s = await service();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await runJob(s, echo('alpha', i)));
      await sleep(3);
    }
    await runJob(s, echo('beta'));
    const all = await call<{ hits: Hit[]; cursor?: string }>(s, 'GET', '/exec/search', undefined, {
      pipelineName: 'alpha',
    });
    expect(all.body.hits.map((h) => h.jobId)).toEqual([...ids].reverse());
    expect(all.body.cursor).toBeUndefined();

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call<{ hits: Hit[]; cursor?: string }>(s, 'GET', '/exec/search', undefined, {
        pipelineName: 'alpha',
        sort: 'asc',
        limit: '2',
        ...(cursor ? { cursor } : {}),
      });
      expect(page.body.hits.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.hits.map((h) => h.jobId));
      cursor = page.body.cursor;
    } while (cursor);
    expect(seen).toEqual(ids);

    const third = all.body.hits.find((h) => h.jobId === ids[2]) as Hit;
    const since = await call<{ hits: Hit[] }>(s, 'GET', '/exec/search', undefined, {
      pipelineName: 'alpha',
      from: third.createdAt,
      sort: 'asc',
    });
    expect(since.body.hits.map((h) => h.jobId)).toEqual(ids.slice(2));
    const completed = await call<{ hits: Hit[] }>(s, 'GET', '/exec/search', undefined, {
      status: 'completed',
    });
    expect(completed.body.hits).toHaveLength(6);
    expect((await call(s, 'GET', '/exec/search', undefined, { status: 'done' })).status).toBe(400);
    expect((await call(s, 'GET', '/exec/search', undefined, { cursor: 'garbage' })).status).toBe(400);
    expect((await call(s, 'GET', '/exec/search', undefined, { sort: 'up' })).status).toBe(400);
  });
});

describe('exec/tree', () => {
  it('shows the jobs pipeline triggers started, from the root, whichever job is asked', async () => {
    const s = await service();
    await call(s, 'POST', '/store/pipelines', [
      echo('first'),
      { ...echo('second'), triggers: { pipelines: ['first'] } },
      { ...echo('third'), triggers: { pipelines: ['second'] } },
    ]);
    const root = await call<{ jobId: string }>(s, 'POST', '/exec/stored', { name: 'first' });
    let third: { hits: Hit[] } = { hits: [] };
    for (let i = 0; i < 100 && third.hits.every((h) => h.status !== 'completed'); i++) {
      await sleep(50);
      third = (await call<{ hits: Hit[] }>(s, 'GET', '/exec/search', undefined, { pipelineName: 'third' }))
        .body;
    }
    const leaf = third.hits[0]?.jobId as string;
    const fromLeaf = await call<Record<string, unknown>>(s, 'GET', `/exec/tree/${leaf}`);
    expect(fromLeaf.status).toBe(200);
    expect(fromLeaf.body).toMatchObject({
      jobId: root.body.jobId,
      pipelineName: 'first',
      children: [
        {
          pipelineName: 'second',
          origin: { kind: 'trigger', parentJobId: root.body.jobId },
          children: [{ jobId: leaf, pipelineName: 'third', children: [] }],
        },
      ],
    });
    expect((await call(s, 'GET', `/exec/tree/${root.body.jobId}`)).body).toEqual(fromLeaf.body);
    expect((await call(s, 'GET', '/exec/tree/nope')).status).toBe(404);
  });
});

describe('exec/algorithm and bulk exec/stop', () => {
  it('runs one algorithm as a one-node job named after it', async () => {
    const s = await service();
    const r = await call<{ jobId: string }>(s, 'POST', '/exec/algorithm', {
      name: 'echo',
      input: [{ a: 1 }],
    });
    expect(r.status).toBe(201);
    await t?.engine.waitForJob(r.body.jobId);
    const res = await call<{ status: string; data: unknown }>(s, 'GET', `/exec/results/${r.body.jobId}`);
    expect(res.body).toMatchObject({
      status: 'completed',
      data: [{ nodeName: 'echo', algorithmName: 'echo', result: [{ a: 1 }] }],
    });
    expect((await call(s, 'POST', '/exec/algorithm', { name: 'no-such-algo' })).status).toBe(400);
  });

  it('stops every unfinished job of a pipeline in a time range, and nothing else', async () => {
    const s = await service();
    const a1 = await call<{ jobId: string }>(s, 'POST', '/exec/raw', sleeper('slow'));
    const a2 = await call<{ jobId: string }>(s, 'POST', '/exec/raw', sleeper('slow'));
    const other = await call<{ jobId: string }>(s, 'POST', '/exec/raw', sleeper('other'));
    const future = await call(s, 'POST', '/exec/stop', {
      pipelineName: 'slow',
      startTime: { from: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(future.body).toEqual({ stopped: [], reason: 'stopped by user' });
    const r = await call<{ stopped: { jobId: string; status: string }[] }>(s, 'POST', '/exec/stop', {
      pipelineName: 'slow',
      startTime: { from: 0, to: Date.now() },
      reason: 'cleanup',
    });
    expect(r.status).toBe(200);
    expect(r.body.stopped.map((x) => x.jobId).sort()).toEqual([a1.body.jobId, a2.body.jobId].sort());
    expect(r.body.stopped.every((x) => x.status === 'stopped')).toBe(true);
    const st = await call<{ status: string }>(s, 'GET', `/exec/status/${other.body.jobId}`);
    expect(st.body.status).not.toBe('stopped');
    expect((await call(s, 'POST', '/exec/stop', {})).status).toBe(400);
    expect((await call(s, 'POST', '/exec/stop', { jobId: 'x', pipelineName: 'slow' })).status).toBe(400);
    expect((await call(s, 'POST', '/exec/stop', { status: 'completed' })).status).toBe(400);
    for (let i = 0; i < 100 && st.body.status !== 'active'; i++) {
      await sleep(20);
      st.body = (await call<{ status: string }>(s, 'GET', `/exec/status/${other.body.jobId}`)).body;
    }
    const byStatus = await call<{ stopped: { jobId: string }[] }>(s, 'POST', '/exec/stop', {
      status: 'active',
    });
    expect(byStatus.body.stopped.map((x) => x.jobId)).toEqual([other.body.jobId]);
  });
});

describe('latest runs of a pipeline and of its cron trigger', () => {
  it('answers results and status, newest first, cron ones apart', async () => {
    const s = await service();
    await call(s, 'POST', '/store/pipelines', echo('daily', 7));
    expect((await call<unknown[]>(s, 'GET', '/pipelines/results/daily')).body).toEqual([]);
    const byApi = await call<{ jobId: string }>(s, 'POST', '/exec/stored', { name: 'daily' });
    await t?.engine.waitForJob(byApi.body.jobId);
    const stored = (await s.deps.registry.getPipeline('daily')) as object;
    const byCron = await t?.engine.coordinator.submit(stored, { origin: { kind: 'cron' } });
    await t?.engine.waitForJob(byCron?.jobId as string);
    await call(s, 'POST', '/exec/stored', { name: 'daily' }).then((r) =>
      t?.engine.waitForJob((r.body as { jobId: string }).jobId),
    );

    const latest = await call<{ jobId: string; data: unknown }[]>(s, 'GET', '/pipelines/results/daily');
    expect(latest.body).toHaveLength(1);
    expect(latest.body[0]?.data).toMatchObject([{ result: [7] }]);
    const three = await call<{ jobId: string }[]>(s, 'GET', '/pipelines/status/daily', undefined, {
      limit: '5',
    });
    expect(three.body).toHaveLength(3);
    expect(three.body[2]?.jobId).toBe(byApi.body.jobId);
    const cron = await call<{ jobId: string; status: string }[]>(s, 'GET', '/cron/status/daily', undefined, {
      limit: '5',
    });
    expect(cron.body.map((j) => j.jobId)).toEqual([byCron?.jobId]);
    expect(cron.body[0]?.status).toBe('completed');
    const cronResults = await call<{ jobId: string }[]>(s, 'GET', '/cron/results/daily');
    expect(cronResults.body.map((j) => j.jobId)).toEqual([byCron?.jobId]);
    expect((await call(s, 'GET', '/pipelines/status/nope')).status).toBe(404);
    expect((await call(s, 'GET', '/pipelines/status/daily', undefined, { limit: '0' })).status).toBe(400);
  });
});

describe('POST /store/pipelines with an array', () => {
  it('stores all or nothing; 409 on an existing name unless overwrite=true', async () => {
    const s = await service();
    const two = [echo('p1'), echo('p2')];
    const r = await call<{ name: string }[]>(s, 'POST', '/store/pipelines', two);
    expect(r.status).toBe(201);
    expect(r.body.map((p) => p.name)).toEqual(['p1', 'p2']);
    const again = await call<{ error: { message: string } }>(s, 'POST', '/store/pipelines', [
      echo('p3'),
      echo('p1', 2),
    ]);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain('overwrite=true');
    expect(await s.deps.registry.getPipeline('p3')).toBeUndefined();
    const bad = await call<{ error: { message: string; field: string } }>(s, 'POST', '/store/pipelines', [
      echo('p4'),
      { name: 'p5', nodes: [] },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/^pipeline \[1\]: /);
    expect(await s.deps.registry.getPipeline('p4')).toBeUndefined();
    const over = await call(s, 'POST', '/store/pipelines', [echo('p3'), echo('p1', 2)], {
      overwrite: 'true',
    });
    expect(over.status).toBe(201);
    const p1 = (await s.deps.registry.getPipeline('p1')) as { nodes: { input: unknown[] }[] };
    expect(p1.nodes[0]?.input).toEqual([2]);
    expect((await call(s, 'POST', '/store/pipelines', echo('p1', 3), { overwrite: 'true' })).status).toBe(
      201,
    );
    expect((await call(s, 'POST', '/store/pipelines', echo('p1', 3))).status).toBe(409);
    expect((await call(s, 'POST', '/store/pipelines', [echo('p6'), echo('p6')])).status).toBe(400);
    // A trigger cycle closed inside the array is refused like one closed against stored pipelines.
    const cycle = await call<{ error: { type: string } }>(s, 'POST', '/store/pipelines', [
      { ...echo('c1'), triggers: { pipelines: ['c2'] } },
      { ...echo('c2'), triggers: { pipelines: ['c1'] } },
    ]);
    expect(cycle).toMatchObject({ status: 400, body: { error: { type: 'TRIGGER_CYCLE' } } });
    expect(await s.deps.registry.getPipeline('c1')).toBeUndefined();
  });
});

describe('exec/pause and exec/resume', () => {
  it('marks the job paused in its status, is idempotent, and refuses a finished job with 409', async () => {
    const s = await service();
    const r = await call<{ jobId: string }>(s, 'POST', '/exec/raw', sleeper('slow'));
    const jobId = r.body.jobId;
    expect((await call(s, 'POST', '/exec/pause', { jobId })).body).toMatchObject({ jobId, paused: true });
    expect((await call(s, 'POST', '/exec/pause', { jobId })).body).toMatchObject({ paused: true });
    expect((await call(s, 'GET', `/exec/status/${jobId}`)).body).toMatchObject({ paused: true });
    expect((await call(s, 'POST', '/exec/resume', { jobId })).body).toMatchObject({ jobId, paused: false });
    expect((await call(s, 'GET', `/exec/status/${jobId}`)).body).not.toHaveProperty('paused');
    await call(s, 'POST', '/exec/stop', { jobId });
    const late = await call<{ error: { message: string } }>(s, 'POST', '/exec/pause', { jobId });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe(`job ${jobId} is already stopped`);
    expect((await call(s, 'POST', '/exec/resume', { jobId: 'nope' })).status).toBe(404);
  });
});
