// kill -9 rounds of `sluice serve` in the middle of a batch: no task is lost, and only tasks in
// flight at a kill run again (the figures of docs/reliability.md). Bounded for `npm test` (3 kills
// over 200 items); SLUICE_CRASH_KILLS and SLUICE_CRASH_TASKS enlarge it, SLUICE_TEST_FIGURES=1
// prints the figures.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Served, serve, sluiceEnv, waitFor } from '../helpers/process.ts';
import { countBy, readLog } from './fixtures.ts';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 60_000 });

const KILLS = Number(process.env.SLUICE_CRASH_KILLS ?? 3);
const TASKS = Number(process.env.SLUICE_CRASH_TASKS ?? 200);
const WORKERS = 4;

// A hot Python algorithm (one process serves many items): logs each start and end, sleeps 20 ms.
const MAIN_PY = `import os, time
def note(text):
    fd = os.open(os.environ["SLUICE_TEST_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.write(fd, (text + "\\n").encode())
    os.close(fd)
def start(args):
    i = args["info"]["batchIndex"]
    note("start %d %d" % (i, os.getpid()))
    time.sleep(args["input"][1])
    note("end %d" % i)
    return args["input"][0] * 10
`;

let dir: string;
let served: Served | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-crash-rounds-'));
  mkdirSync(join(dir, 'code'));
  writeFileSync(join(dir, 'code', 'main.py'), MAIN_PY);
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

/** The task records as the state directory holds them (no engine runs now). */
async function taskRecords(home: string, jobId: string) {
  const { LocalEngine } = await import('../../shared/runtime/embedded/local-engine.ts');
  const { InlineRunner } = await import('../../shared/runner/inline-runner.ts');
  const engine = await LocalEngine.open({ home, runner: new InlineRunner(new Map()) });
  try {
    return await engine.tasks.listTasks(jobId);
  } finally {
    await engine.close();
  }
}

describe('kill -9 rounds of sluice serve', () => {
  it(`${KILLS} kills over ${TASKS} items: none lost, only those in flight run again`, async () => {
    const home = join(dir, 'home');
    const logFile = join(dir, 'runs.log');
    const env = sluiceEnv(home, { SLUICE_TEST_LOG: logFile });
    served = await serve(['-w', String(WORKERS)], { env });
    await api(served, 'POST', '/store/algorithms', {
      name: 'tick',
      env: 'python',
      codePath: join(dir, 'code'),
      entryPoint: 'main.py',
    });
    const { jobId } = await api<{ jobId: string }>(served, 'POST', '/exec/raw', {
      name: 'crash-rounds',
      nodes: [{ nodeName: 'T', algorithmName: 'tick', input: [`#[1...${TASKS}]`, 0.02] }],
    });
    const inFlight = new Set<number>();
    let inFlightTotal = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      // Kill once this share of the items has ended and some item is running.
      const ends = Math.floor((kill * TASKS) / (KILLS + 1));
      const s = served;
      await waitFor(
        `kill ${kill}: ${ends} items ended, one running`,
        () => {
          const log = readLog(logFile);
          const ended = log.filter((e) => e.kind === 'end').length;
          return ended >= ends && log.length - 2 * ended > 0;
        },
        120_000,
      );
      process.kill(s.child.pid as number, 'SIGKILL');
      expect(await s.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const active = (await taskRecords(home, jobId)).filter((t) => t.status === 'active');
      for (const t of active) inFlight.add(t.batchIndex as number);
      inFlightTotal += active.length;
      served = await serve(['-w', String(WORKERS)], { env }); // recovers, then runs the rest
    }
    const s = served;
    const done = await waitFor(
      'the job to end',
      async () => {
        const st = await api<{ status: string }>(s, 'GET', `/exec/status/${jobId}`);
        return ['completed', 'failed', 'stopped'].includes(st.status) ? st : undefined;
      },
      300_000,
    );
    expect(done.status).toBe('completed');
    const { data } = await api<{ data: { batchIndex: number; result: number }[] }>(
      s,
      'GET',
      `/exec/results/${jobId}`,
    );
    const lost = TASKS - data.filter((d) => d.result === d.batchIndex * 10).length;
    // Runs beyond the first, from the algorithm's own log (a run that started counts).
    const starts = countBy(readLog(logFile), 'start');
    const rerunItems = [...starts].filter(([, n]) => n > 1).map(([i]) => i);
    const reruns = [...starts.values()].reduce((a, n) => a + n - 1, 0);
    if (process.env.SLUICE_TEST_FIGURES) {
      console.error(
        `kill -9 rounds: ${KILLS} kills over ${TASKS} items; lost ${lost}; in flight at the kills ${inFlightTotal}; runs again ${reruns} (${rerunItems.length} items)`,
      );
    }
    expect(lost).toBe(0);
    expect(starts.size).toBe(TASKS);
    expect(rerunItems.filter((i) => !inFlight.has(i))).toEqual([]);
    expect(reruns).toBeLessThanOrEqual(inFlightTotal);
  });
});
