// HKube's code API, the same scenarios on every backend: an algorithm that starts an algorithm and
// a stored sub-pipeline and returns both results (HKube's own system test), in Python and Node.js;
// a failing child as an error value; stop while children run; a crash of the caller while children
// run (no child started twice). Every backend runs them with ONE worker slot: a caller that waits
// lends its slot, or nothing could run its children.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobStatusView } from '../../shared/api/job-views.ts';
import type { Coordinator } from '../../shared/engine/coordinator.ts';
import { validatePipeline } from '../../shared/pipeline/validate-pipeline.ts';
import { isJobFinal, type JobState } from '../../shared/ports/job-state.ts';
import { runCli } from '../helpers/cli.ts';

export interface CodeApiBackend {
  coordinator: Coordinator;
  /** Where the CLI finds this engine (backends the CLI can reach). */
  cliEnv?: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const EVAL_ALG = `
import os, time

def start(args):
    x = args["input"][0]
    if x == "fail":
        raise ValueError("eval-alg refuses to evaluate 'fail'")
    if x == "sleep":
        time.sleep(60)
    if x == "slow":
        with open(os.path.join(args["input"][1], "slow-runs"), "a") as f:
            f.write("run\\n")
        time.sleep(1)
        return "slow done"
    return x * 2
`;

const CALLER_PY = `
import os

def start(args, hkubeApi=None):
    mode = args["input"][0]
    if mode == "both":
        algorithm = hkubeApi.start_algorithm("eval-alg", [5], resultAsRaw=True)
        pipeline = hkubeApi.start_stored_subpipeline("simple", {"x": 7})
        return hkubeApi.wait_all([algorithm, pipeline])
    if mode == "forget":
        hkubeApi.start_algorithm("eval-alg", ["sleep"])
        return "not waiting"
    if mode == "nested":
        return hkubeApi.start_algorithm("caller", ["both"]).get()
    if mode == "fail":
        return hkubeApi.start_algorithm("eval-alg", ["fail"]).get()
    if mode == "dotted":
        return hkubeApi.start_algorithm("eval.v2", [3]).get()
    if mode == "raw":
        nodes = [{"nodeName": "d", "algorithmName": "eval-alg", "input": ["@flowInput.x"]}]
        whole = hkubeApi.start_raw_subpipeline({"name": "inline", "nodes": nodes}, {"x": 4})
        hkube_style = hkubeApi.start_raw_subpipeline("inline2", nodes, {"x": 8})
        bad = hkubeApi.start_raw_subpipeline({"name": "inline3", "nodes": []})
        return hkubeApi.wait_all([whole, hkube_style, bad])
    if mode == "sleep":
        return hkubeApi.start_algorithm("eval-alg", ["sleep"], blocking=True)
    if mode == "crash":
        workdir = args["input"][1]
        attempts = os.path.join(workdir, "caller-attempts")
        with open(attempts, "a") as f:
            f.write("attempt\\n")
        slow = hkubeApi.start_algorithm("eval-alg", ["slow", workdir])
        quick = hkubeApi.start_algorithm("eval-alg", [21]).get()
        if len(open(attempts).read().splitlines()) == 1:
            os._exit(9)  # dies while its first child still runs
        return [slow.get(), quick]
    return None
`;

const CALLER_JS = `
export async function start(args, hkubeApi) {
  if (args.input[0] === 'fail') return hkubeApi.startAlgorithm('eval-alg', ['fail']);
  const algorithm = hkubeApi.startAlgorithm('eval-alg', [5]);
  const pipeline = hkubeApi.startStoredSubpipeline('simple', { x: 7 });
  return hkubeApi.waitAll([algorithm, pipeline]);
}
`;

async function waitFor<T>(what: string, get: () => Promise<T | undefined>, ms = 40_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function defineCodeApiSuite(
  backendName: string,
  open: (dir: string) => Promise<CodeApiBackend>,
): void {
  describe(`HKube's code API on ${backendName} (one worker slot)`, () => {
    let dir: string;
    let b: CodeApiBackend;
    const c = () => b.coordinator;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'sluice-codeapi-'));
      const code = (name: string, file: string, text: string) => {
        mkdirSync(join(dir, name));
        writeFileSync(join(dir, name, file), text);
        return join(dir, name);
      };
      b = await open(dir);
      const { registry } = c().ports;
      const alg = (
        name: string,
        env: 'python' | 'nodejs',
        codePath: string,
        entryPoint: string,
        maxWorkers?: number,
      ) =>
        registry.putAlgorithm(
          { name, env, codePath, entryPoint, minHotWorkers: 0, ...(maxWorkers ? { maxWorkers } : {}) },
          'upsert',
        );
      await alg('eval-alg', 'python', code('eval', 'main.py', EVAL_ALG), 'main.py');
      await alg('eval.v2', 'python', join(dir, 'eval'), 'main.py');
      await alg('caller', 'python', code('caller', 'main.py', CALLER_PY), 'main.py', 1);
      await alg('caller-js', 'nodejs', code('caller-js', 'index.mjs', CALLER_JS), 'index.mjs');
      const simple = validatePipeline(
        {
          name: 'simple',
          nodes: [{ nodeName: 'double', algorithmName: 'eval-alg', input: ['@flowInput.x'] }],
        },
        { checkFlowInput: false },
      );
      await registry.putPipeline(simple, 'upsert');
    }, 60_000);

    afterAll(async () => {
      await b?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const run = (
      algorithmName: string,
      input: unknown[],
      extra: Record<string, unknown> = {},
      node: Record<string, unknown> = {},
    ) =>
      c().submit({
        name: `run-${algorithmName}`,
        nodes: [{ nodeName: 'main', algorithmName, input, ...node }],
        ...extra,
      });
    const final = (jobId: string) =>
      waitFor(`job ${jobId} to finish`, async () => {
        const job = await c().ports.jobs.getJob(jobId);
        return job && isJobFinal(job) && (await c().ports.jobs.getResults(jobId)) !== undefined
          ? job
          : undefined;
      });
    const mainResult = async (job: JobState) => {
      const [task] = await c().ports.tasks.nodeResults(job.jobId, 'main');
      if (task?.status !== 'succeeded')
        throw new Error(`the caller ${task?.status}: ${JSON.stringify(task)}`);
      return task?.result;
    };
    const children = async (job: JobState) =>
      Promise.all(
        (job.children ?? []).map(async (ch) => (await c().ports.jobs.getJob(ch.jobId)) as JobState),
      );

    for (const caller of ['caller', 'caller-js']) {
      it(`${caller} starts an algorithm and a stored sub-pipeline and returns both results`, async () => {
        const job = await final((await run(caller, ['both'], { priority: 4 })).jobId);
        await mainResult(job);
        expect(job.status).toBe('completed');
        const [algorithm, pipeline] = (await mainResult(job)) as [unknown, { response: unknown[] }];
        expect(algorithm).toEqual({ response: 10 });
        expect(pipeline.response).toMatchObject([{ nodeName: 'double', result: 14 }]);
        // Children of the calling node, with the caller's priority and job as their origin.
        const view = jobStatusView(job);
        expect(view.nodes[0]?.children?.map((ch) => ch.callIndex)).toEqual([1, 2]);
        if (b.cliEnv) {
          const cli = await runCli(['exec', 'status', job.jobId], { env: b.cliEnv });
          const [first, second] = job.children?.sort((x, y) => x.callIndex - y.callIndex) ?? [];
          expect(cli.stdout).toContain(`child of main (call 1): ${first?.jobId}`);
          expect(cli.stdout).toContain(`child of main (call 2): ${second?.jobId}`);
        }
        for (const child of await children(job)) {
          expect(child).toMatchObject({
            status: 'completed',
            pipeline: { priority: 4 },
            origin: { kind: 'algorithm', parentJobId: job.jobId, parentNode: 'main' },
          });
        }
      }, 60_000);

      it(`${caller}: a failing child comes back as an error value; the job completes`, async () => {
        const job = await final((await run(caller, ['fail'])).jobId);
        await mainResult(job);
        expect(job.status).toBe('completed');
        const result = (await mainResult(job)) as { error: string };
        expect(Object.keys(result)).toEqual(['error']);
        expect(result.error).toContain("eval-alg refuses to evaluate 'fail'");
      }, 60_000);
    }

    it('a caller whose child is a caller (maxWorkers 1): both wait, neither deadlocks', async () => {
      const job = await final((await run('caller', ['nested'])).jobId);
      const nested = (await mainResult(job)) as { response: [unknown, { response: unknown[] }] };
      expect(nested.response[0]).toEqual({ response: 10 });
      expect(nested.response[1].response).toMatchObject([{ nodeName: 'double', result: 14 }]);
      expect(job.status).toBe('completed');
    }, 60_000);

    it('an algorithm whose name has a dot (node names cannot)', async () => {
      const job = await final((await run('caller', ['dotted'])).jobId);
      expect(await mainResult(job)).toEqual({ response: 6 });
    }, 60_000);

    it('start_raw_subpipeline takes a descriptor or HKube’s (name, nodes, flowInput); a bad one is an error value', async () => {
      const job = await final((await run('caller', ['raw'])).jobId);
      const [whole, hkubeStyle, bad] = (await mainResult(job)) as Record<string, unknown>[];
      expect(whole?.response).toMatchObject([{ nodeName: 'd', result: 8 }]);
      expect(hkubeStyle?.response).toMatchObject([{ nodeName: 'd', result: 16 }]);
      expect(bad?.error).toMatch(/nodes/);
      expect(job.status).toBe('completed');
    }, 60_000);

    it('stopping the job stops the children it started', async () => {
      const { jobId } = await run('caller', ['sleep']);
      const child = await waitFor('a running child', async () => {
        const job = await c().ports.jobs.getJob(jobId);
        const id = job?.children?.[0]?.jobId;
        const tasks = id ? await c().ports.tasks.nodeResults(id, 'eval-alg') : [];
        return id && tasks[0] ? id : undefined;
      });
      await new Promise((r) => setTimeout(r, 1500)); // the child's task starts its 60 s sleep
      const stoppedAt = Date.now();
      await c().stop(jobId, 'enough');
      const childJob = await final(child);
      expect(childJob.status).toBe('stopped');
      expect(childJob.reason).toContain('enough');
      expect(Date.now() - stoppedAt).toBeLessThan(15_000);
      const [task] = await c().ports.tasks.nodeResults(child, 'eval-alg');
      expect(task?.status).toBe('stopped');
      expect((await final(jobId)).status).toBe('stopped');
    }, 60_000);

    it('children a caller did not wait for are stopped when it finishes', async () => {
      const job = await final((await run('caller', ['forget'])).jobId);
      expect(await mainResult(job)).toBe('not waiting');
      const child = job.children?.[0]?.jobId as string;
      expect(child).toBeTruthy();
      const childJob = await final(child);
      expect(childJob.status).toBe('stopped');
      expect(childJob.reason).toContain('without waiting');
    }, 60_000);

    it('a caller killed by its node ttl stops the children it started', async () => {
      const { jobId } = await run('caller', ['sleep'], {}, { ttl: 4 });
      const child = await waitFor(
        'a child',
        async () => (await c().ports.jobs.getJob(jobId))?.children?.[0]?.jobId,
      );
      const childJob = await final(child);
      expect(childJob.status).toBe('stopped');
      const job = await final(jobId);
      expect(job.status).toBe('failed');
      expect(Date.now() - job.createdAt).toBeLessThan(30_000);
    }, 60_000);

    it('a caller that crashes while its children run is retried and reuses them', async () => {
      const work = mkdtempSync(join(dir, 'crash-'));
      const job = await final((await run('caller', ['crash', work])).jobId);
      await mainResult(job);
      expect(job.status).toBe('completed');
      expect(readFileSync(join(work, 'caller-attempts'), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
      expect(await mainResult(job)).toEqual([{ response: 'slow done' }, { response: 42 }]);
      // The slow child ran once although both attempts asked for it.
      expect(readFileSync(join(work, 'slow-runs'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
      expect(job.children).toHaveLength(2);
      appendFileSync(join(work, 'checked'), 'ok');
    }, 60_000);
  });
}
