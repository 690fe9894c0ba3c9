// Crash safety of the embedded engine: kill -9 of `sluice serve` in the middle of a batch, then
// `sluice resume` finishes the job. Nothing completed runs again, what was running is retried by
// its policy (OnCrash), no result is lost. Also: one engine per SLUICE_HOME, stale locks taken over.
//
// What a kill -9 of the engine leaves behind: algorithm processes run in their own process groups
// (so a Ctrl-C in the terminal reaches the engine only, which then closes them). When the engine
// itself is killed they are orphaned: a hot python/node host exits at the EOF of its request pipe,
// a command task runs to its end and its output goes nowhere. Either way it ends on its own and its
// result is never recorded; the task is retried by the next engine. This test keeps them alive, as
// a real crash of the engine process would, and checks that they end by themselves.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isAlive, type Served, serve, sluice, sluiceEnv, waitFor } from '../helpers/process.ts';
import { countBy, readLog, writeAlgorithms } from './fixtures.ts';

// Real processes (tsx start-up ~0.4 s each) on a shared machine: generous time limits.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let dir: string;
let served: Served | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-crash-'));
  writeAlgorithms(dir);
});
afterAll(() => {
  const c = served?.child;
  if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface TaskView {
  batchIndex: number;
  status: string;
  attempts: number;
}

async function api<T = unknown>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { ...served?.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const parsed = (await res.json()) as T;
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(parsed)}`);
  return parsed;
}

describe('kill -9 of the engine, then sluice resume', () => {
  it('continues the job: completed items do not run again, running ones are retried, all 12 results', async () => {
    const home = join(dir, 'home');
    const logFile = join(dir, 'crash.log');
    const env = sluiceEnv(home, { SLUICE_TEST_LOG: logFile });
    served = await serve(['-w', '3'], { env });
    const url = served.url;
    await api(url, 'POST', '/store/algorithms', {
      name: 'slow',
      env: 'command',
      command: ['python3', 'slow.py'],
      codePath: join(dir, 'code'),
    });
    const { jobId } = await api<{ jobId: string }>(url, 'POST', '/exec/raw', {
      name: 'crashy',
      nodes: [{ nodeName: 'S', algorithmName: 'slow', input: ['#[1...12]', 0.4] }],
    });

    // Wait until some items have completed and others are running, then crash the engine.
    await waitFor('some done, some running', async () => {
      const tasks = await api<TaskView[]>(url, 'GET', `/exec/tasks/${jobId}`);
      const done = tasks.filter((t) => t.status === 'succeeded');
      const running = tasks.filter((t) => t.status === 'active');
      return done.length >= 3 && running.length >= 1 ? tasks : undefined;
    });
    const servePid = served.child.pid as number;
    process.kill(servePid, 'SIGKILL');
    expect(await served.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // What the crash left is what the state directory holds now (a task may finish between the
    // API answer above and the kill, so that answer is only the trigger).
    const atCrash = await taskRecords(home, jobId);
    const doneBefore = atCrash.filter((t) => t.status === 'succeeded').map((t) => t.batchIndex);
    const runningBefore = atCrash.filter((t) => t.status === 'active').map((t) => t.batchIndex);
    expect(runningBefore.length).toBeGreaterThanOrEqual(1);

    // The orphaned algorithm processes end on their own (nothing records their results).
    const startedPids = readLog(logFile)
      .filter((e) => e.kind === 'start')
      .map((e) => e.pid as number);
    await waitFor('orphaned algorithm processes to end', () => startedPids.every((p) => !isAlive(p)), 10_000);

    // Nothing runs the job now: watch says so instead of waiting forever.
    const watched = await sluice(['watch', jobId], { env });
    expect(watched.code).toBe(1);
    expect(watched.stderr).toBe(
      `sluice: job ${jobId} is active but no engine is running for ${home}; start one with \`sluice serve\` or \`sluice resume\`\n`,
    );

    // The dead engine's lock and engine.json are stale: the next engine takes over.
    expect(Number(readFileSync(join(home, 'engine.lock'), 'utf8'))).toBe(servePid);
    const resumed = await sluice(['resume', '-w', '3'], { env, timeoutMs: 30_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming 1 unfinished job/);
    expect(resumed.stdout).toBe(`${jobId} completed\n`);
    expect(existsSync(join(home, 'engine.lock'))).toBe(false);

    // Every result is there, in batchIndex order.
    const result = await sluice(['exec', 'result', jobId, '--json'], { env });
    const data = JSON.parse(result.stdout).data as { batchIndex: number; result: number }[];
    expect(data.map((d) => d.result)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]);

    // The log says how often each item ran; the task records say how often each was claimed.
    const log = readLog(logFile);
    const starts = countBy(log, 'start');
    const tasks = JSON.parse((await sluice(['exec', 'status', jobId, '--json'], { env })).stdout) as {
      tasks: { retried: number; succeeded: number };
    };
    expect(tasks.tasks.succeeded).toBe(12);
    expect(tasks.tasks.retried).toBeGreaterThanOrEqual(runningBefore.length);
    for (const i of doneBefore) expect(starts.get(i), `item ${i} completed before the crash`).toBe(1);
    for (const i of runningBefore) {
      // Running at the crash: retried (its first run may or may not have started its process).
      const after = (await taskRecords(home, jobId)).find((t) => t.batchIndex === i) as TaskView;
      expect(after.attempts, `item ${i} was running at the crash`).toBeGreaterThanOrEqual(2);
      expect(starts.get(i)).toBeGreaterThanOrEqual(1);
    }
    for (let i = 1; i <= 12; i++) expect(countBy(log, 'end').get(i), `item ${i}`).toBeGreaterThanOrEqual(1);
  });
});

/** The task records in the state directory (no engine runs now). */
async function taskRecords(home: string, jobId: string): Promise<TaskView[]> {
  const { LocalEngine } = await import('../../shared/runtime/embedded/local-engine.ts');
  const { InlineRunner } = await import('../../shared/runner/inline-runner.ts');
  const engine = await LocalEngine.open({ home, runner: new InlineRunner(new Map()) });
  try {
    return (await engine.tasks.listTasks(jobId)) as unknown as TaskView[];
  } finally {
    await engine.close();
  }
}

describe('one engine per SLUICE_HOME', () => {
  it('refuses a second engine while the first is alive, with a clear message', async () => {
    const home = join(dir, 'single');
    const env = sluiceEnv(home);
    const first = await serve([], { env });
    try {
      const second = await sluice(['serve', '--port', '0'], { env });
      expect(second.code).toBe(1);
      expect(second.stderr).toBe(
        `sluice: an engine (pid ${first.child.pid}) is already running for ${home}\n`,
      );
      const resume = await sluice(['resume'], { env });
      expect(resume.code).toBe(1);
      expect(resume.stderr).toMatch(/already running/);
    } finally {
      first.child.kill('SIGTERM');
      await first.exited;
    }
  });

  it('takes over a stale engine.lock and engine.json left by a dead process', async () => {
    const home = join(dir, 'stale');
    const env = sluiceEnv(home);
    const deadPid = 2 ** 22 + 12345; // above the default pid_max: never a live process
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'engine.lock'), String(deadPid));
    writeFileSync(
      join(home, 'engine.json'),
      JSON.stringify({ pid: deadPid, url: 'http://127.0.0.1:9', startedAt: new Date().toISOString() }),
    );
    // Clients ignore the stale engine.json (no attempt to reach port 9)...
    const list = await sluice(['pipeline', 'list', '--json'], { env });
    expect(list.code, list.stderr).toBe(0);
    // ...and a new engine takes the lock.
    const s = await serve([], { env });
    try {
      expect(Number(readFileSync(join(home, 'engine.lock'), 'utf8'))).toBe(s.child.pid);
      expect(JSON.parse(readFileSync(join(home, 'engine.json'), 'utf8')).url).toBe(s.url);
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });
});
