// A task failure keeps its type from the runner to the API: an IO built-in (cp, in the worker
// pool's builtin host) that fails some items throws IoFailuresError; the task fails with type
// io-failures, is retried by OnError (its error is retryable), and the task view of the REST API
// shows the failure with the IO summary and its per-item failures, next to the `error` text.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../shared/runner/worker-pool.ts';
import { startTestHost } from '../helpers/engine.ts';

let h: Awaited<ReturnType<typeof startTestHost>> | undefined;
let dir: string | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`${h?.api}${path}`, { ...init, headers: { ...h?.headers, ...init?.headers } });
  return (await res.json()) as T;
}

describe('typed task failures', () => {
  it('an IO built-in’s failed items: retried by OnError, summary visible in the API task view', async () => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-typed-'));
    mkdirSync(join(dir, 'in', 'sub'), { recursive: true });
    writeFileSync(join(dir, 'in', 'top.txt'), 'top');
    writeFileSync(join(dir, 'in', 'sub', 'a.txt'), 'a');
    // Where cp must create the directory `sub`, a file is in the way: that item fails (even as root).
    mkdirSync(join(dir, 'out'));
    writeFileSync(join(dir, 'out', 'sub'), 'in the way');
    h = await startTestHost({ runner: new WorkerPool({ maxWorkers: 2, cacheDir: join(dir, 'cache') }) });
    const { jobId } = await call<{ jobId: string }>('/exec/raw', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'copy',
        nodes: [
          {
            nodeName: 'C',
            algorithmName: 'cp',
            input: [{ src: join(dir, 'in'), dst: join(dir, 'out') }],
            retry: { policy: 'OnError', limit: 1 },
          },
        ],
      }),
    });
    const job = await h.host.engine.waitForJob(jobId);
    expect(job.status).toBe('failed');
    expect(job.nodes.get('C')).toMatchObject({ status: 'failed', retried: 1 });
    const [task] = await call<Record<string, unknown>[]>(`/exec/tasks/${jobId}`);
    expect(task).toMatchObject({ status: 'failed', attempts: 2 });
    expect(task?.error).toMatch(/cp: 1 item\(s\) failed: .*sub/);
    expect(task?.failure).toMatchObject({
      type: 'io-failures',
      retryable: true,
      code: 'IO_FAILURES',
      details: {
        operation: 'cp',
        failures: [{ path: expect.stringContaining('sub') }],
      },
    });
  });

  it('a ValidationError is invalid input: OnError does not retry it', async () => {
    h = await startTestHost();
    const { jobId } = await call<{ jobId: string }>('/exec/raw', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'bad-cp',
        nodes: [
          {
            nodeName: 'C',
            algorithmName: 'cp',
            input: [{ src: '/x' }],
            retry: { policy: 'OnError', limit: 3 },
          },
        ],
      }),
    });
    const job = await h.host.engine.waitForJob(jobId);
    expect(job.status).toBe('failed');
    expect(job.nodes.get('C')).toMatchObject({ retried: 0 });
    const [task] = await call<Record<string, unknown>[]>(`/exec/tasks/${jobId}`);
    expect(task).toMatchObject({ attempts: 1, failure: { type: 'invalid-input', retryable: false } });
    expect(task?.error).toMatch(/input\[0\]\.dst is required/);
  });
});
