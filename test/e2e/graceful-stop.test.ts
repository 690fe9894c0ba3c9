// A graceful stop of the engine (SIGTERM or Ctrl-C of `sluice serve`) is not billed to the tasks it
// interrupts: they go back to the queue unrun, with no attempt counted, so a `Never` task is not
// failed and restarts cannot use up a healthy task's retries (issue 11 item 5). A kill -9 is
// different: recovery counts the interrupted run as a crash (test/e2e/crash-safety.test.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAlive, type Served, serve, sluice, sluiceEnv, waitFor } from '../helpers/process.ts';
import { readLog, writeAlgorithms } from './fixtures.ts';

// Real processes (tsx start-up ~0.4 s each) on a shared machine: generous time limits.
vi.setConfig({ testTimeout: 300_000, hookTimeout: 60_000 });

const RESTARTS = 4;

let dir: string;
let served: Served | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-graceful-'));
  writeAlgorithms(dir);
});
afterAll(() => {
  const c = served?.child;
  if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function api<T = unknown>(s: Served, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${s.url}/api/v1${path}`, {
    method,
    headers: { ...s.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

describe('graceful stops of sluice serve', () => {
  it(`${RESTARTS} SIGTERMs while a Never task and a default-policy task run: both rerun, retried 0`, async () => {
    const home = join(dir, 'home');
    const logFile = join(dir, 'runs.log');
    const env = sluiceEnv(home, { SLUICE_TEST_LOG: logFile });
    served = await serve(['-w', '2'], { env });
    await api(served, 'POST', '/store/algorithms', {
      name: 'slow',
      env: 'command',
      command: ['python3', 'slow.py'],
      codePath: join(dir, 'code'),
    });
    // One item in node N (Never) and one in node D (the default OnCrash, limit 3), 60 s each.
    const { jobId } = await api<{ jobId: string }>(served, 'POST', '/exec/raw', {
      name: 'graceful',
      nodes: [
        { nodeName: 'N', algorithmName: 'slow', input: ['#[1...1]', 60], retry: { policy: 'Never' } },
        { nodeName: 'D', algorithmName: 'slow', input: ['#[1...1]', 60] },
      ],
    });
    const starts = () => readLog(logFile).filter((e) => e.kind === 'start').length;
    for (let round = 1; round <= RESTARTS; round++) {
      if (round > 1) served = await serve(['-w', '2'], { env });
      await waitFor(`round ${round}: both items running`, () => starts() >= 2 * round, 30_000);
      served.child.kill('SIGTERM');
      expect(await served.exited).toEqual({ code: 0, signal: null });
      const job = JSON.parse((await sluice(['exec', 'status', jobId, '--json'], { env })).stdout) as {
        status: string;
      };
      expect(job.status, `after SIGTERM ${round}`).toBe('active');
    }
    // Every interrupted algorithm process was stopped with its engine.
    const pids = readLog(logFile)
      .filter((e) => e.kind === 'start')
      .map((e) => e.pid as number);
    expect(pids.filter(isAlive)).toEqual([]);

    const resumed = await sluice(['resume', '-w', '2'], {
      env: { ...env, SLUICE_TEST_SLEEP: '0.05' },
      timeoutMs: 60_000,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toBe(`${jobId} completed\n`);
    const status = JSON.parse((await sluice(['exec', 'status', jobId, '--json'], { env })).stdout) as {
      tasks: { succeeded: number; failed: number; retried: number };
    };
    expect(status.tasks).toMatchObject({ succeeded: 2, failed: 0, retried: 0 });
    expect(starts()).toBe(2 * (RESTARTS + 1));
    const { LocalEngine } = await import('../../shared/runtime/embedded/local-engine.ts');
    const { InlineRunner } = await import('../../shared/runner/inline-runner.ts');
    const engine = await LocalEngine.open({ home, runner: new InlineRunner(new Map()) });
    try {
      const tasks = await engine.tasks.listTasks(jobId);
      expect(tasks.map((t) => [t.nodeName, t.status, t.attempts]).sort()).toEqual([
        ['D', 'succeeded', 1],
        ['N', 'succeeded', 1],
      ]);
    } finally {
      await engine.close();
    }
  });
});
