// Pipeline nodes (`kind: pipeline`) on the embedded engine, through the API: cycles of pipelines
// refused when stored or submitted (alone or with triggers), an unknown sub-pipeline refused at
// submission, the run-time depth guard, the child job shown by status and tree, and the parent's
// ttl ending its child. The sub-job semantics on both backends are conformance cases
// (test/conformance/cases/exec-pipeline-node*, the stop cascade in execution.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../../shared/api/router.ts';
import type { SluiceService } from '../../../shared/api/service.ts';
import { runPipelineNode } from '../../../shared/engine/pipeline-node.ts';
import { type PipelineNode, validatePipeline } from '../../../shared/pipeline/index.ts';
import { MAX_CHAIN_DEPTH, pipelineCycleThrough } from '../../../shared/pipeline/pipeline-cycles.ts';
import { FakeClock } from '../../../shared/testing/fake-clock.ts';
import { openTestEngine, serviceOf, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function call<T = unknown>(
  s: SluiceService,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  return (await handleApi(s, { method, path, query: {}, ...(body !== undefined ? { body } : {}) })) as {
    status: number;
    body: T;
  };
}

/** A pipeline whose node N runs `sub` (or echoes when there is none), with optional triggers. */
const runs = (name: string, sub?: string, after: string[] = []) => ({
  name,
  ...(after.length ? { triggers: { pipelines: after } } : {}),
  nodes: [
    sub
      ? { nodeName: 'N', kind: 'pipeline', spec: { name: sub } }
      : { nodeName: 'N', algorithmName: 'echo', input: [name] },
  ],
});

interface ApiError {
  error: { code: number; type: string; field: string; message: string };
}

describe('cycles of pipelines', () => {
  it('finds cycles through pipeline nodes and through pipeline nodes mixed with triggers', () => {
    expect(pipelineCycleThrough(runs('a', 'a'), [])?.steps).toEqual([{ to: 'a', node: 'N' }]);
    expect(pipelineCycleThrough(runs('b', 'a'), [runs('a', 'b')])?.steps).toEqual([
      { to: 'a', node: 'N' },
      { to: 'b', node: 'N' },
    ]);
    // a runs b; b's completion triggers a.
    expect(pipelineCycleThrough(runs('a', 'b', ['b']), [runs('b')])?.steps).toEqual([
      { to: 'b', node: 'N' },
      { to: 'a' },
    ]);
    // Two pipelines running the same one, and a chain, are no cycle.
    expect(pipelineCycleThrough(runs('c', 'leaf'), [runs('b', 'leaf'), runs('leaf')])).toBeUndefined();
    expect(pipelineCycleThrough(runs('a', 'b'), [runs('b', 'c'), runs('c')])).toBeUndefined();
  });

  it('storing the pipeline that closes a cycle is a 400 naming it, and nothing is stored', async () => {
    t = await openTestEngine();
    const s = serviceOf(t);
    expect((await call(s, 'POST', '/store/pipelines', runs('a', 'b'))).status).toBe(201);
    const closing = await call<ApiError>(s, 'POST', '/store/pipelines', runs('b', 'a'));
    expect(closing.status).toBe(400);
    expect(closing.body.error).toMatchObject({
      code: 400,
      type: 'PIPELINE_CYCLE',
      field: 'nodes[0].spec.name',
      message: expect.stringContaining('b → a (pipeline node "N") → b (pipeline node "N")'),
    });
    expect((await call(s, 'GET', '/store/pipelines/b')).status).toBe(404);
    // A trigger closing the cycle: c runs a, which runs b, and b's completion would trigger c.
    expect((await call(s, 'POST', '/store/pipelines', runs('b'))).status).toBe(201);
    const mixed = await call<ApiError>(s, 'POST', '/store/pipelines', runs('c', 'a', ['b']));
    expect(mixed.status).toBe(400);
    expect(mixed.body.error.message).toContain(
      'c → a (pipeline node "N") → b (pipeline node "N") → c (trigger)',
    );
    expect((await call(s, 'GET', '/store/pipelines/c')).status).toBe(404);
    // An array is checked as it will be stored: the pair closing a cycle stores neither.
    const pair = await call<ApiError>(s, 'POST', '/store/pipelines', [runs('x', 'y'), runs('y', 'x')]);
    expect(pair.status).toBe(400);
    expect(pair.body.error.type).toBe('PIPELINE_CYCLE');
    expect((await call(s, 'GET', '/store/pipelines/x')).status).toBe(404);
  });

  it('submitting a pipeline that runs itself through stored ones, or one not stored, is a 400', async () => {
    t = await openTestEngine();
    const s = serviceOf(t);
    expect((await call(s, 'POST', '/store/pipelines', runs('middle', 'outer'))).status).toBe(201);
    const cyclic = await call<ApiError>(s, 'POST', '/exec/raw', runs('outer', 'middle'));
    expect(cyclic.status).toBe(400);
    expect(cyclic.body.error).toMatchObject({ type: 'PIPELINE_CYCLE' });
    const missing = await call<ApiError>(s, 'POST', '/exec/raw', runs('lonely', 'nowhere'));
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      type: 'PIPELINE_NOT_FOUND',
      field: 'nodes[0].spec.name',
      message: expect.stringContaining('pipeline "nowhere" (node "N") is not stored'),
    });
    expect((await t.engine.jobs.listJobs({ limit: 10 })).length).toBe(0);
  });

  it(`at run time a chain deeper than ${MAX_CHAIN_DEPTH} sub-pipelines fails the node that would go deeper`, async () => {
    t = await openTestEngine({ slots: 2 });
    // p0 runs p1 ... runs p21 (no cycle): p21 would be the 21st nested job.
    const depth = MAX_CHAIN_DEPTH + 1;
    for (let i = depth; i >= 1; i--) {
      const p = validatePipeline(runs(`p${i}`, i < depth ? `p${i + 1}` : undefined), {
        checkFlowInput: false,
      });
      await t.engine.registry.putPipeline(p, 'create');
    }
    const { job } = await t.run(runs('p0', 'p1'));
    expect(job.status).toBe('failed');
    const jobs = await t.engine.jobs.listJobs({ limit: 100 });
    expect(jobs).toHaveLength(MAX_CHAIN_DEPTH + 1); // p0 .. p20
    const deepest = jobs.find((j) => j.pipelineName === `p${MAX_CHAIN_DEPTH}`);
    const deepJob = await t.engine.jobs.getJob(deepest?.jobId ?? '');
    expect(deepJob?.origin?.triggerDepth).toBe(MAX_CHAIN_DEPTH);
    expect(deepJob?.reason).toContain(
      `a chain of ${MAX_CHAIN_DEPTH} sub-pipelines and triggered jobs ends here`,
    );
  });
});

describe('the child job', () => {
  it('exec status lists it under the node, exec tree shows it, results come from it', async () => {
    t = await openTestEngine();
    const s = serviceOf(t);
    await call(s, 'POST', '/store/pipelines', runs('leaf'));
    const { job, results } = await t.run({
      name: 'root',
      nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'leaf' }, input: ['#[1...2]'] }],
    });
    expect(job.status).toBe('completed');
    expect(results).toEqual([
      { nodeName: 'P', batchIndex: 1, result: [{ nodeName: 'N', algorithmName: 'echo', result: ['leaf'] }] },
      { nodeName: 'P', batchIndex: 2, result: [{ nodeName: 'N', algorithmName: 'echo', result: ['leaf'] }] },
    ]);
    const status = await call<{ nodes: { nodeName: string; children?: { jobId: string }[] }[] }>(
      s,
      'GET',
      `/exec/status/${job.jobId}`,
    );
    const children = status.body.nodes.find((n) => n.nodeName === 'P')?.children ?? [];
    expect(children).toHaveLength(2);
    const tree = await call<{ jobId: string; children: { jobId: string; origin: unknown }[] }>(
      s,
      'GET',
      `/exec/tree/${children[1]?.jobId}`,
    );
    expect(tree.body.jobId).toBe(job.jobId);
    expect(tree.body.children.map((c) => c.jobId).sort()).toEqual(children.map((c) => c.jobId).sort());
    expect(tree.body.children[0]?.origin).toMatchObject({
      kind: 'pipeline',
      parentJobId: job.jobId,
      parentNode: 'P',
    });
  });

  it('a task run again (a retry, a recovered crash) finds the child it started instead of starting another', async () => {
    t = await openTestEngine();
    await t.engine.registry.putPipeline(validatePipeline(runs('once'), { checkFlowInput: false }), 'create');
    const parent = await t.engine.coordinator.submit({
      name: 'holder',
      nodes: [
        { nodeName: 'P', kind: 'pipeline', spec: { name: 'once' } },
        { nodeName: 'W', algorithmName: 'sleep', input: [60_000] },
      ],
    });
    let childId = '';
    for (let i = 0; i < 500 && !childId; i++) {
      await new Promise((r) => setTimeout(r, 10));
      childId = (await t.engine.jobs.getJob(parent.jobId))?.children?.[0]?.jobId ?? '';
    }
    await t.engine.waitForJob(childId);
    const node = (await t.engine.jobs.getJob(parent.jobId))?.pipeline.nodes[0] as PipelineNode;
    const info = { jobId: parent.jobId, taskId: `${parent.jobId}.P`, nodeName: 'P', pipelineName: 'holder' };
    const again = await runPipelineNode(
      t.engine.coordinator,
      info,
      node,
      [],
      new AbortController().signal,
      () => {},
    );
    expect(again).toMatchObject({ status: 'succeeded', result: [{ nodeName: 'N', result: ['once'] }] });
    const onceJobs = (await t.engine.jobs.listJobs({ limit: 100 })).filter((j) => j.pipelineName === 'once');
    expect(onceJobs.map((j) => j.jobId)).toEqual([childId]);
    expect((await t.engine.jobs.getJob(parent.jobId))?.children).toHaveLength(1);
    await t.engine.coordinator.stop(parent.jobId);
  });

  it("the parent's ttl stops the running child", async () => {
    const clock = new FakeClock();
    t = await openTestEngine({ slots: 2, clock });
    await t.engine.registry.putPipeline(
      validatePipeline({ name: 'slow', nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [60_000] }] }),
      'create',
    );
    const parent = await t.engine.coordinator.submit({
      name: 'bounded',
      options: { ttl: 5 },
      nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'slow' } }],
    });
    let childId = '';
    for (let i = 0; i < 500 && !childId; i++) {
      await new Promise((r) => setTimeout(r, 10));
      childId = (await t.engine.jobs.getJob(parent.jobId))?.children?.[0]?.jobId ?? '';
    }
    const child = await t.engine.jobs.getJob(childId);
    // The child gets no more than what the parent has left.
    expect(child?.pipeline.options.ttl).toBeLessThanOrEqual(5);
    await clock.advance(5_000);
    expect((await t.engine.waitForJob(parent.jobId)).status).toBe('stopped');
    const stopped = await t.engine.waitForJob(childId);
    expect(stopped.status).toBe('stopped');
  });
});
