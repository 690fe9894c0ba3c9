// Runs in a child process for `aws-dispatch --e2e`: `sluice serve --backend aws` as a user starts
// it (the api function behind HTTP, the event queue and expand, the task queues, the real worker
// pool running a Python algorithm, the status function), then a client submits an N-item Python
// batch over HTTP and polls the status route until the results are there. Prints the figures as
// JSON: seconds from the POST to the results, per-hop timestamps of the tasks, and per task the
// CPU of every process (functions, worker, Python hosts, each emulator) and the requests each
// emulator served, by operation (emulators run apart by the suite: SLUICE_BENCH_EMULATOR_PIDS).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAwsStack } from '../shared/runtime/aws-emulated/stack.ts';
import { emulatorRequests } from '../test/helpers/emulator-requests.ts';
import { cpuDelta, cpuSnapshot } from './rig/process-cpu.ts';

const items = Number(process.argv[2] ?? 200);
/** The emulators' processes (name → pid), when the suite runs them apart: their CPU and requests count too. */
const emulatorPids = JSON.parse(process.env.SLUICE_BENCH_EMULATOR_PIDS ?? '{}') as Record<string, number>;
const slots = Number(process.argv[3] ?? 4);
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-e2e-'));
mkdirSync(join(dir, 'double'));
writeFileSync(join(dir, 'double', 'main.py'), 'def start(args):\n    return args["input"][0] * 2\n');
const stack = await startLocalAwsStack({
  http: { port: 0, host: '127.0.0.1' },
  slots,
  workerProcess: true, // as `sluice serve --backend aws` runs it
  s3PollMs: 0,
  onError: (e) => process.stderr.write(`${(e as Error).message}\n`),
});
const api = `${stack.url}/api/v1`;
const call = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${api}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
  return (await r.json()) as Record<string, unknown>;
};
await call('PUT', '/store/algorithms', {
  name: 'double',
  env: 'python',
  codePath: join(dir, 'double'),
  entryPoint: 'main.py',
});
const runOnce = async (n: number) => {
  const t0 = performance.now();
  const postedAt = Date.now();
  const { jobId } = (await call('POST', '/exec/raw', {
    name: 'bench-aws-e2e',
    nodes: [{ nodeName: 'D', algorithmName: 'double', input: [`#[1...${n}]`] }],
  })) as { jobId: string };
  let status = '';
  for (;;) {
    const s = await call('GET', `/exec/status/${jobId}`);
    status = String(s.status);
    if (['completed', 'failed', 'stopped'].includes(status)) {
      const r = await call('GET', `/exec/results/${jobId}`);
      if (r.data !== null && r.data !== undefined)
        return { jobId, status, seconds: (performance.now() - t0) / 1000, data: r.data, postedAt };
    }
    await new Promise((r) => setTimeout(r, 100)); // `sluice run` asks every 200 ms
  }
};
// A warm-up run starts the Python hosts (a deployed worker is warm after its first tasks too).
await runOnce(Math.min(items, 2 * slots));
const requests0 = await emulatorRequests(emulatorPids);
const snap0 = cpuSnapshot(emulatorPids);
const cpu0 = process.cpuUsage();
const run = await runOnce(items);
const cpu = process.cpuUsage(cpu0);
const cpuMs = (cpu.user + cpu.system) / 1000;
const perProcess = cpuDelta(snap0, cpuSnapshot(emulatorPids));
const requests1 = await emulatorRequests(emulatorPids);
/** Requests per task served by each emulator during the timed run, by operation. */
const requestsPerTask: Record<string, Record<string, number>> = {};
for (const [name, ops] of Object.entries(requests1)) {
  const before = requests0[name] ?? {};
  const per: Record<string, number> = {};
  for (const [op, n] of Object.entries(ops)) {
    const d = n - (before[op] ?? 0);
    if (d > 0) per[op] = Math.round((d / items) * 100) / 100;
  }
  requestsPerTask[name] = per;
}
const tasks = await stack.engine.tasks.listTasks(run.jobId, 'D');
// One entry per item of the batch node (ordered by batchIndex).
const results = (run.data as { nodeName?: string }[]).filter((r) => r.nodeName === 'D');
const lat = tasks.map((t) => (t.startedAt ?? 0) - t.queuedAt).sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
const job = await stack.engine.jobs.getJob(run.jobId);
/** Where the run's time went: ms from the POST to each hop (first and last task). */
const since = (xs: (number | undefined)[], pick: (v: number[]) => number) => {
  const v = xs.filter((x): x is number => x !== undefined);
  return v.length ? pick(v) - run.postedAt : undefined;
};
const timeline = {
  firstQueued: since(
    tasks.map((t) => t.queuedAt),
    (v) => Math.min(...v),
  ),
  lastQueued: since(
    tasks.map((t) => t.queuedAt),
    (v) => Math.max(...v),
  ),
  firstStarted: since(
    tasks.map((t) => t.startedAt),
    (v) => Math.min(...v),
  ),
  lastStarted: since(
    tasks.map((t) => t.startedAt),
    (v) => Math.max(...v),
  ),
  lastFinished: since(
    tasks.map((t) => t.finishedAt),
    (v) => Math.max(...v),
  ),
  jobFinished: since([job?.finishedAt], (v) => Math.max(...v)),
  resultsRead: Math.round(run.seconds * 1000),
};
console.log(
  JSON.stringify({
    status: run.status,
    tasks: items,
    seconds: run.seconds,
    tasksPerSecond: items / run.seconds,
    p50ReadyToStartedMs: pct(50),
    p99ReadyToStartedMs: pct(99),
    resultItems: results.length,
    timelineMs: timeline,
    /** CPU of this process (the api, expand and status functions; not the worker, Python or the emulators). */
    cpuMsPerTask: cpuMs / items,
    /** CPU ms per task of every process (label → ms): functions, worker, Python hosts, emulators. */
    cpuMsPerTaskByProcess: Object.fromEntries(
      Object.entries(perProcess).map(([k, v]) => [k, Math.round((v / items) * 10) / 10]),
    ),
    requestsPerTask,
  }),
);
await stack.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
