// Runs inside a fresh process for the engine-dispatch suite: one `#[1...N]` echo batch plus a
// reduce through the embedded engine with its real worker pool; prints the figures as JSON.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiServer, listen } from '../shared/runtime/embedded/http-server.ts';
import { LocalEngine } from '../shared/runtime/embedded/local-engine.ts';
import { dispatchFigures } from './dispatch-figures.ts';

const items = Number(process.argv[2] ?? 20_000);
const workers = Number(process.argv[3] ?? 2);
/**
 * `events`: an open dashboard's job page follows the job's events (curl reads the stream, in
 * another process); `events-all`: a client follows every event, each task's included.
 */
const withEvents = process.argv[4]?.startsWith('events');
const streamQuery = process.argv[4] === 'events-all' ? '' : '?types=job';
/** `--synchronous=normal|full`: SQLite's setting (default the engine's, full). */
const sync = process.argv.find((a) => a.startsWith('--synchronous='))?.slice(14);
const home = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
const engine = await LocalEngine.open({
  home,
  workers,
  ...(sync === 'normal' || sync === 'full' ? { synchronous: sync } : {}),
});
engine.start();
const server = withEvents ? createApiServer(engine.service) : undefined;
let reader: ReturnType<typeof spawn> | undefined;
let streamed = 0;
if (server) {
  const addr = await listen(server, 0, '127.0.0.1');
  reader = spawn('curl', ['-sN', `http://127.0.0.1:${addr.port}/api/v1/events${streamQuery}`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  reader.stdout?.on('data', (d: Buffer) => {
    streamed += d.length;
  });
  // The stream is open (its hello arrived) before the run starts.
  while (streamed === 0) await new Promise((r) => setTimeout(r, 20));
}
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const job = await engine.coordinator.submit({
  name: 'bench-dispatch',
  options: { ttl: 3600 },
  nodes: [
    { nodeName: 'fan', algorithmName: 'echo', input: [`#[1...${items}]`] },
    { nodeName: 'reduce', algorithmName: 'echo', input: ['@fan'] },
  ],
});
const final = await engine.waitForJob(job.jobId);
const seconds = (performance.now() - t0) / 1000;
// The engine process's own CPU (the event stream's cost lands here; the workers are children):
// a figure the machine's load inflates far less than tasks/s.
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
// Raw rows, not listTasks(): decoding 100,000 task records would inflate the RSS figure.
const rows = engine.db
  .prepare("SELECT started_at - queued_at AS lat FROM tasks WHERE job_id = ? AND node_name = 'fan'")
  .all(job.jobId) as { lat: number }[];
const figures = {
  ...dispatchFigures({
    status: final.status,
    items,
    seconds,
    latenciesMs: rows.map((r) => r.lat),
    results: await engine.jobs.getResults(job.jobId),
  }),
  engineCpuUsPerTask: Math.round((cpu.user + cpu.system) / (items + 1)),
  engineMaxRssMB: Math.round(Math.max(peakRss, process.resourceUsage().maxRSS * 1024) / 1e6),
  ...(withEvents ? { streamedBytes: streamed } : {}),
};
const children0 = childrenCpuMs();
await engine.close();
// The worker processes have exited and been reaped: their CPU is in this process's children's
// (the stream reader is still running, so it is not).
const workersMs = childrenCpuMs() - children0;
console.log(
  JSON.stringify({ ...figures, workersCpuUsPerTask: Math.round((workersMs * 1000) / (items + 1)) }),
);
reader?.kill();
server?.closeAllConnections();
server?.close();
rmSync(home, { recursive: true, force: true });

/** CPU time (ms) of this process's children that have ended: /proc/self/stat cutime + cstime. */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
    // After "pid (comm) ": state is field 3; cutime and cstime are fields 16 and 17 (clock ticks, 100/s).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return Number.NaN;
  }
}
