// Trigger cycles across stored pipelines (pa → pb → pa made 2,293 jobs in 5 s): storing the
// pipeline that closes one is refused with the cycle named, and a cycle that got stored anyway
// (written behind the API's back) ends after MAX_TRIGGER_DEPTH triggered jobs.
import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import { validatePipeline } from '../../../shared/pipeline/index.ts';
import {
  MAX_CHAIN_DEPTH as MAX_TRIGGER_DEPTH,
  triggerCycleThrough,
} from '../../../shared/pipeline/pipeline-cycles.ts';
import { openTestEngine, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const pipeline = (name: string, after: string[] = []) => ({
  name,
  ...(after.length ? { triggers: { pipelines: after } } : {}),
  nodes: [{ nodeName: 'N', algorithmName: 'echo', input: [name] }],
});

describe('triggerCycleThrough', () => {
  it('finds a pipeline that triggers itself, a two- and a three-pipeline cycle, and no false ones', () => {
    expect(triggerCycleThrough(pipeline('pa', ['pa']), [])).toEqual(['pa', 'pa']);
    expect(triggerCycleThrough(pipeline('pb', ['pa']), [pipeline('pa', ['pb'])])).toEqual(['pb', 'pa', 'pb']);
    expect(
      triggerCycleThrough(pipeline('pc', ['pb']), [pipeline('pa', ['pc']), pipeline('pb', ['pa'])]),
    ).toEqual(['pc', 'pa', 'pb', 'pc']);
    // A diamond (a → b, a → c, b → d, c → d) is no cycle; nor is replacing the one edge that closed one.
    const diamond = [pipeline('a'), pipeline('b', ['a']), pipeline('c', ['a'])];
    expect(triggerCycleThrough(pipeline('d', ['b', 'c']), diamond)).toBeUndefined();
    expect(
      triggerCycleThrough(pipeline('pa', []), [pipeline('pa', ['pb']), pipeline('pb', ['pa'])]),
    ).toBeUndefined();
  });
});

describe('storing pipelines', () => {
  it('refuses the pipeline that closes a cycle (400, the cycle named) and stores nothing of it', async () => {
    t = await openTestEngine();
    const service = t.engine.service;
    const call = (method: string, path: string, body?: unknown) =>
      handleApi(service, { method, path, query: {}, body });
    expect((await call('POST', '/store/pipelines', pipeline('pa', ['pb']))).status).toBe(201);
    const closing = await call('POST', '/store/pipelines', pipeline('pb', ['pa']));
    expect(closing.status).toBe(400);
    expect(closing.body).toMatchObject({
      error: {
        type: 'TRIGGER_CYCLE',
        field: 'triggers.pipelines',
        message: expect.stringContaining('pb → pa → pb'),
      },
    });
    expect((await call('GET', '/store/pipelines/pb')).status).toBe(404);
    const self = await call('PUT', '/store/pipelines', pipeline('pa', ['pa']));
    expect(self.status).toBe(400);
    expect((await call('GET', '/store/pipelines/pa')).body).toMatchObject({
      triggers: { pipelines: ['pb'] },
    });
  });
});

describe('at run time', () => {
  it(`a stored cycle ends after ${MAX_TRIGGER_DEPTH} triggered jobs`, async () => {
    t = await openTestEngine();
    // Written behind the API's back, as a cycle stored before the check could have been.
    for (const p of [pipeline('pa', ['pb']), pipeline('pb', ['pa'])]) {
      await t.engine.registry.putPipeline(validatePipeline(p, { checkFlowInput: false }), 'create');
    }
    await t.run(pipeline('pa'));
    const count = async () =>
      (await t?.engine.jobs.listJobs({ limit: 1000 }))?.filter((j) => j.status === 'completed').length ?? 0;
    let last = -1;
    for (let i = 0; i < 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const n = await count();
      if (n === last && n > MAX_TRIGGER_DEPTH) break;
      last = n;
    }
    expect(await count()).toBe(MAX_TRIGGER_DEPTH + 1);
    const jobs = await t.engine.jobs.listJobs({ limit: 1000 });
    const depths = await Promise.all(
      jobs.map(async (j) => (await t?.engine.jobs.getJob(j.jobId))?.origin?.triggerDepth ?? 0),
    );
    expect(Math.max(...depths)).toBe(MAX_TRIGGER_DEPTH);
  });
});
