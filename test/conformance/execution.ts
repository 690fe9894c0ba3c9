// The execution half of the conformance suite: every case with `expect.run` is run on an engine
// and its outcome compared. Backend-neutral: each backend (embedded, AWS on emulators) calls
// defineExecutionSuite with a factory, so the same cases prove the same semantics on both.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validatePipeline } from '../../shared/pipeline/index.ts';
import { parsePipelineText } from '../../shared/pipeline/parse-text.ts';
import type { JobState } from '../../shared/ports/job-state.ts';
import type { Registry } from '../../shared/ports/registry.ts';
import { loadCases } from './load-cases.ts';

export interface ExecutedJob {
  status: string;
  reason?: string;
  nodes: Record<string, Record<string, unknown>>;
  results: unknown;
  /** Task records of a node ordered by batchIndex. */
  items(node: string): Promise<{ batchIndex?: number; status: string; result?: unknown }[]>;
}

/** Driving one job while it runs (pause/resume), where a backend offers it. */
export interface JobControls {
  submit(pipeline: unknown): Promise<string>;
  /** Stores a pipeline (for pipeline nodes), replacing one of the same name. */
  store(pipeline: unknown): Promise<void>;
  stop(jobId: string): Promise<void>;
  setPaused(jobId: string, paused: boolean): Promise<void>;
  job(jobId: string): Promise<JobState | undefined>;
  /** The job once it is final and its results are stored. */
  final(jobId: string): Promise<ExecutedJob>;
}

export interface ExecutionBackend {
  /** Stores `stored` first (pipelines its pipeline nodes run), then runs `pipeline` to its end. */
  run(pipeline: unknown, flowInput?: Record<string, unknown>, stored?: unknown[]): Promise<ExecutedJob>;
  controls?: JobControls;
  close(): Promise<void>;
}

/** Stores a pipeline as the API does (validated, its flowInput not checked), replacing one of its name. */
export async function storePipeline(registry: Pick<Registry, 'putPipeline'>, raw: unknown): Promise<void> {
  await registry.putPipeline(validatePipeline(raw, { checkFlowInput: false }), 'upsert');
}

export function executionCases() {
  return loadCases().filter((c) => c.expect.run);
}

export function defineExecutionSuite(backendName: string, open: () => Promise<ExecutionBackend>): void {
  describe(`conformance execution on ${backendName}`, () => {
    let backend: ExecutionBackend;
    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => {
      await backend?.close();
    });

    const cases = executionCases();
    it('has execution cases', () => {
      expect(cases.length).toBeGreaterThanOrEqual(20);
    });

    it('pause/resume: a paused job starts no new task, its running task finishes; resume completes it', async () => {
      const ctl = backend.controls;
      if (!ctl) return;
      const jobId = await ctl.submit({
        name: 'pause-resume',
        nodes: [
          { nodeName: 'A', algorithmName: 'sleep', input: [1500, 'a'] },
          { nodeName: 'B', algorithmName: 'echo', input: ['@A'] },
        ],
      });
      await until(async () => (await ctl.job(jobId))?.status === 'active');
      await ctl.setPaused(jobId, true);
      // The running task finishes; B's task is created but does not start while paused.
      await until(async () => (await ctl.job(jobId))?.nodes.get('A')?.status === 'succeeded');
      await new Promise((r) => setTimeout(r, 1500));
      const paused = (await ctl.job(jobId)) as JobState;
      expect(paused).toMatchObject({ status: 'active', paused: true });
      expect(paused.nodes.get('B')).toMatchObject({ succeeded: 0, failed: 0 });
      await ctl.setPaused(jobId, false);
      const done = await ctl.final(jobId);
      expect(done.status).toBe('completed');
      expect(done.results).toMatchObject([{ nodeName: 'B', result: ['a'] }]);
    });

    it('sub-pipelines: stopping the parent stops the running child job; the tree and status show the child', async () => {
      const ctl = backend.controls;
      if (!ctl) return;
      await ctl.store({
        name: 'sub-stop-child',
        nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [20_000, 's'] }],
      });
      const jobId = await ctl.submit({
        name: 'sub-stop-parent',
        nodes: [{ nodeName: 'P', kind: 'pipeline', spec: { name: 'sub-stop-child' } }],
      });
      let childId = '';
      await until(async () => {
        childId = (await ctl.job(jobId))?.children?.[0]?.jobId ?? '';
        return childId !== '' && (await ctl.job(childId))?.status === 'active';
      });
      expect(await ctl.job(childId)).toMatchObject({
        origin: { kind: 'pipeline', parentJobId: jobId, parentNode: 'P', triggerDepth: 1 },
      });
      await ctl.stop(jobId);
      await until(async () => (await ctl.job(childId))?.status === 'stopped', 10_000);
      const parent = await ctl.final(jobId);
      expect(parent.status).toBe('stopped');
      expect((await ctl.job(childId))?.reason).toContain('parent stopped');
    });

    for (const c of cases) {
      const pending = c.expect.run?.pending;
      // A pending case stays visible in every run, with the reason it cannot pass yet.
      const test = pending ? it.skip : it;
      test(`${c.name}: ${c.description}${pending ? ` (PENDING: ${pending})` : ''}`, async () => {
        const raw = parsePipelineText(readFileSync(c.pipelineFile, 'utf8'), c.pipelineFile);
        const flowInput = c.flowInputFile
          ? (JSON.parse(readFileSync(c.flowInputFile, 'utf8')) as Record<string, unknown>)
          : undefined;
        const want = c.expect.run!;
        const stored = c.storedFiles.map((f) => JSON.parse(readFileSync(f, 'utf8')) as unknown);
        const job = await backend.run(raw, flowInput, stored);
        expect({ status: job.status, reason: job.reason }).toMatchObject({ status: want.status });
        if (want.reason) expect(job.reason ?? '').toContain(want.reason);
        if (want.results) expect(job.results).toEqual(want.results);
        for (const [node, state] of Object.entries(want.nodes ?? {})) {
          expect(job.nodes[node], `node ${node}`).toMatchObject(state);
        }
        for (const [node, items] of Object.entries(want.items ?? {})) {
          const got = (await job.items(node)).map((i) => [i.batchIndex ?? null, i.status, i.result ?? null]);
          expect(got, `items of ${node}`).toEqual(items);
        }
      });
    }
  });
}

async function until(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting for the job');
    await new Promise((r) => setTimeout(r, 25));
  }
}
