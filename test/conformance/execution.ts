// The execution half of the conformance suite: every case with `expect.run` is run on an engine
// and its outcome compared. Backend-neutral: each backend (embedded, AWS on emulators) calls
// defineExecutionSuite with a factory, so the same cases prove the same semantics on both.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePipelineText } from '../../shared/pipeline/index.ts';
import { loadCases } from './load-cases.ts';

export interface ExecutedJob {
  status: string;
  reason?: string;
  nodes: Record<string, Record<string, unknown>>;
  results: unknown;
  /** Task records of a node ordered by batchIndex. */
  items(node: string): Promise<{ batchIndex?: number; status: string; result?: unknown }[]>;
}

export interface ExecutionBackend {
  run(pipeline: unknown, flowInput?: Record<string, unknown>): Promise<ExecutedJob>;
  close(): Promise<void>;
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
        const job = await backend.run(raw, flowInput);
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
