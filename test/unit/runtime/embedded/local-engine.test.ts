import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestEngine, runCounts, type TestEngine } from '../../../helpers/engine.ts';

let t: TestEngine;
beforeEach(async () => {
  t = await openTestEngine();
  runCounts.clear();
});
afterEach(async () => {
  await t.close();
});

describe('embedded engine: batch fan-out and fan-in', () => {
  it('runs a #[...] batch and gives the reduce node all item results in batchIndex order', async () => {
    const { job, results } = await t.run({
      name: 'fan',
      nodes: [
        { nodeName: 'A', algorithmName: 'echo', input: ['#[1...5]'] },
        { nodeName: 'R', algorithmName: 'echo', input: ['@A'] },
      ],
    });
    expect(job.status).toBe('completed');
    expect(results).toEqual([{ nodeName: 'R', algorithmName: 'echo', result: [[[1], [2], [3], [4], [5]]] }]);
    expect(job.nodes.get('A')).toMatchObject({ status: 'succeeded', total: 5, succeeded: 5 });
  });

  it('orders batch results by batchIndex, not by completion order', async () => {
    const { job, results } = await t.run({
      name: 'order',
      nodes: [
        { nodeName: 'S', algorithmName: 'sleep', input: ['#[60, 1, 30, 5]', 'x'] },
        { nodeName: 'R', algorithmName: 'echo', input: ['@S'] },
      ],
    });
    expect(job.status).toBe('completed');
    expect(results).toEqual([{ nodeName: 'R', algorithmName: 'echo', result: [['x', 'x', 'x', 'x']] }]);
    const items = await t.engine.tasks.nodeResults(job.jobId, 'S');
    expect(items.map((i) => i.batchIndex)).toEqual([1, 2, 3, 4]);
  });

  it('a #@Parent batch runs one child item per parent item and drops failed ones', async () => {
    const { job } = await t.run({
      name: 'drop',
      options: { batchTolerance: 60 },
      nodes: [
        { nodeName: 'P', algorithmName: 'maybe-fail', input: ['#[1...5]', [2, 4]] },
        { nodeName: 'C', algorithmName: 'echo', input: ['#@P'] },
      ],
    });
    expect(job.status).toBe('completed');
    const items = await t.engine.tasks.nodeResults(job.jobId, 'C');
    expect(items.map((i) => i.result)).toEqual([[1], [3], [5]]);
  });

  it('skips a batch over an empty list and cascades the skip to batch children', async () => {
    const { job, results } = await t.run({
      name: 'skip',
      flowInput: { files: [] },
      nodes: [
        { nodeName: 'A', algorithmName: 'echo', input: ['#@flowInput.files'] },
        { nodeName: 'B', algorithmName: 'echo', input: ['#@A'] },
        { nodeName: 'C', algorithmName: 'echo', input: ['@A'] },
      ],
    });
    expect(job.status).toBe('completed');
    expect(job.nodes.get('A')?.status).toBe('skipped');
    expect(job.nodes.get('B')?.status).toBe('skipped');
    expect(job.nodes.get('C')?.status).toBe('succeeded');
    expect(results).toEqual(
      expect.arrayContaining([
        { nodeName: 'B', algorithmName: 'echo', result: [] },
        { nodeName: 'C', algorithmName: 'echo', result: [[]] },
      ]),
    );
  });

  it('*@Batch fires per parent item and zips two streaming parents by batchIndex', async () => {
    const { job } = await t.run({
      name: 'zip',
      nodes: [
        { nodeName: 'X', algorithmName: 'echo', input: ['#[1...3]'] },
        { nodeName: 'Y', algorithmName: 'echo', input: ['#[a, b, c]'] },
        { nodeName: 'Z', algorithmName: 'echo', input: ['*@X', '*@Y'] },
      ],
    });
    expect(job.status).toBe('completed');
    const items = await t.engine.tasks.nodeResults(job.jobId, 'Z');
    expect(items.map((i) => [i.batchIndex, i.result])).toEqual([
      [1, [[1], ['a']]],
      [2, [[2], ['b']]],
      [3, [[3], ['c']]],
    ]);
  });

  it('*@Node on a non-batch node behaves like @Node', async () => {
    const { job, results } = await t.run({
      name: 'waitany',
      nodes: [
        { nodeName: 'A', algorithmName: 'echo', input: [7] },
        { nodeName: 'B', algorithmName: 'echo', input: ['*@A'] },
      ],
    });
    expect(job.status).toBe('completed');
    expect(results).toEqual([{ nodeName: 'B', algorithmName: 'echo', result: [[7]] }]);
  });
});

describe('embedded engine: failures, tolerance and retries', () => {
  it('fails the pipeline when round(failed/total*100) >= batchTolerance, naming the counts', async () => {
    const { job } = await t.run({
      name: 'tol',
      options: { batchTolerance: 20 },
      nodes: [{ nodeName: 'A', algorithmName: 'maybe-fail', input: ['#[1...10]', [3, 7]] }],
    });
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/node A: 2 of 10 items failed \(20%\), batchTolerance is 20%/);
  });

  it('completes when failures stay under batchTolerance, and reports failed items in the results', async () => {
    const { job, results } = await t.run({
      name: 'tol2',
      options: { batchTolerance: 30 },
      nodes: [{ nodeName: 'A', algorithmName: 'maybe-fail', input: ['#[1...10]', [3, 7]] }],
    });
    expect(job.status).toBe('completed');
    const r = results as { batchIndex: number; error?: string }[];
    expect(r).toHaveLength(10);
    expect(r.filter((x) => x.error).map((x) => x.batchIndex)).toEqual([3, 7]);
  });

  it('batchTolerance 0 is a real value: any failure fails the pipeline', async () => {
    const { job } = await t.run({
      name: 'tol0',
      options: { batchTolerance: 0 },
      nodes: [{ nodeName: 'A', algorithmName: 'maybe-fail', input: ['#[1...100]', [50]] }],
    });
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/1 of 100 items failed/);
  });

  it('a failed non-batch node fails the job and its children never run', async () => {
    const { job } = await t.run({
      name: 'single-fail',
      nodes: [
        { nodeName: 'A', algorithmName: 'maybe-fail', input: [1, true] },
        { nodeName: 'B', algorithmName: 'echo', input: ['@A'] },
      ],
    });
    expect(job.status).toBe('failed');
    expect(job.reason).toMatch(/node A failed: failed on 1/);
    expect(await t.engine.tasks.listTasks(job.jobId, 'B')).toEqual([]);
  });

  it('OnCrash (default) retries crashes up to the limit', async () => {
    const { job, results } = await t.run({
      name: 'crash',
      nodes: [{ nodeName: 'A', algorithmName: 'flaky-crash', input: ['k1', 2] }],
    });
    expect(job.status).toBe('completed');
    expect(results).toEqual([
      { nodeName: 'A', algorithmName: 'flaky-crash', result: { key: 'k1', runs: 3 } },
    ]);
    expect(job.nodes.get('A')?.retried).toBe(2);
  });

  it('OnCrash does not retry an ordinary error', async () => {
    const { job } = await t.run({
      name: 'oncrash-error',
      nodes: [{ nodeName: 'A', algorithmName: 'flaky-error', input: ['k2', 1] }],
    });
    expect(job.status).toBe('failed');
    expect(runCounts.get('k2')).toBe(1);
  });

  it('OnError retries errors; limit bounds the retries; Never never retries', async () => {
    const ok = await t.run({
      name: 'onerror',
      nodes: [
        {
          nodeName: 'A',
          algorithmName: 'flaky-error',
          input: ['k3', 2],
          retry: { policy: 'OnError', limit: 2 },
        },
      ],
    });
    expect(ok.job.status).toBe('completed');
    expect(runCounts.get('k3')).toBe(3);
    const over = await t.run({
      name: 'onerror-limit',
      nodes: [
        {
          nodeName: 'A',
          algorithmName: 'flaky-error',
          input: ['k4', 5],
          retry: { policy: 'OnError', limit: 2 },
        },
      ],
    });
    expect(over.job.status).toBe('failed');
    expect(runCounts.get('k4')).toBe(3);
    const never = await t.run({
      name: 'never',
      nodes: [
        {
          nodeName: 'A',
          algorithmName: 'flaky-crash',
          input: ['k5', 1],
          retry: { policy: 'Never', limit: 3 },
        },
      ],
    });
    expect(never.job.status).toBe('failed');
    expect(runCounts.get('k5')).toBe(1);
  });
});

describe('embedded engine: results', () => {
  it('includeInResult adds a non-sink node to the results; includeInResults is accepted too', async () => {
    const { results } = await t.run({
      name: 'incl',
      nodes: [
        { nodeName: 'A', algorithmName: 'echo', input: [1], includeInResult: true },
        { nodeName: 'B', algorithmName: 'echo', input: ['@A'], includeInResults: true },
        { nodeName: 'C', algorithmName: 'echo', input: ['@B'] },
      ],
    });
    const names = (results as { nodeName: string }[]).map((r) => r.nodeName).sort();
    expect(names).toEqual(['A', 'B', 'C']);
  });

  it('stores values over 64 KiB as blobs and still returns them', async () => {
    const big = 'x'.repeat(100_000);
    const { results } = await t.run({
      name: 'big',
      flowInput: { big },
      nodes: [{ nodeName: 'A', algorithmName: 'echo', input: ['@flowInput.big'] }],
    });
    expect(results).toEqual([{ nodeName: 'A', algorithmName: 'echo', result: [big] }]);
    const row = t.engine.db.prepare('SELECT result, result_blob FROM tasks').get() as Record<string, unknown>;
    expect(row.result).toBeNull();
    expect(String(row.result_blob)).toMatch(/result\.json$/);
  });
});
