// Runs in a child process for `make --aws`: the emulated AWS stack as `sluice serve --backend aws`
// runs it (the api function behind HTTP, the task queues, the worker in its own process, the
// status function) on the emulators the suite started, then `sluice make -q -s -j 64 --endpoint`
// and plain `make -j 64` on the same generated Makefile of N no-op targets. Prints the figures as
// JSON, with the CPU each process spent and the requests each emulator served per recipe.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { startLocalAwsStack } from '../shared/runtime/aws-emulated/stack.ts';
import { emulatorRequests } from '../test/helpers/emulator-requests.ts';
import { cpuDelta, cpuSnapshot } from './rig/process-cpu.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
const targets = Number(process.argv[2] ?? 500);
const slots = Number(process.argv[3] ?? 4);
const emulatorPids = JSON.parse(process.env.SLUICE_BENCH_EMULATOR_PIDS ?? '{}') as Record<string, number>;
const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-mk-aws-'));
const stack = await startLocalAwsStack({
  http: { port: 0, host: '127.0.0.1' },
  slots,
  workerProcess: true,
  s3PollMs: 0,
  // The code cache and the spool of recipe outputs: one directory stands for the shared EFS volume.
  env: { ...process.env, SLUICE_SHARED_VOLUME: join(dir, 'volume') },
  onError: (e) => process.stderr.write(`${(e as Error).message}\n`),
});
/** API requests by route (add, wait, ...) the HTTP server handed to the api function. */
const apiRequests: Record<string, number> = Object.create(null);
const api = stack.handlers.api;
stack.handlers.api = (event) => {
  const e = event as APIGatewayProxyEvent; // what the stack's HTTP server builds
  const route = e.path.replace(/^\/api\/v1/, '').replace(/\/dynamic\/[^/]+\//, '/dynamic/{jobId}/');
  const key = `${e.httpMethod} ${route}`;
  apiRequests[key] = (apiRequests[key] ?? 0) + 1;
  return api(event);
};
const makefile = `all: ${Array.from({ length: targets }, (_, i) => `out/t${i}`).join(' ')}\nout/t%:\n\t@touch $@\n`;

/** Seconds of one build from scratch in a fresh directory (and the job id, for sluice). */
async function build(name: string, sluice: boolean): Promise<{ seconds: number; jobId?: string }> {
  const cwd = join(dir, name);
  mkdirSync(join(cwd, 'out'), { recursive: true });
  writeFileSync(join(cwd, 'Makefile'), makefile);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLUICE_HOME: join(dir, `${name}-home`),
    SLUICE_API_AUTH: 'none',
  };
  delete env.SLUICE_ENDPOINT;
  const t0 = performance.now();
  if (!sluice) {
    await run('make', ['-s', '-j64'], { cwd, env });
    return { seconds: (performance.now() - t0) / 1000 };
  }
  const { stderr } = await run(
    process.execPath,
    [BIN, 'make', '-s', '-j64', '--endpoint', stack.url as string, '--spool', join(dir, 'spool')],
    { cwd, env, maxBuffer: 16 * 1024 * 1024 },
  );
  const jobId = /sluice make: job (\S+) /.exec(stderr)?.[1];
  return { seconds: (performance.now() - t0) / 1000, ...(jobId ? { jobId } : {}) };
}

await build('warm-up', true); // the worker's first recipes (a deployed worker is warm too)
const plainSeconds = (await build('plain', false)).seconds;
const requests0 = await emulatorRequests(emulatorPids);
const api0 = { ...apiRequests };
const snap0 = cpuSnapshot(emulatorPids);
const makeSide0 = exitedChildrenCpuMs();
const built = await build('sluice', true);
const seconds = built.seconds;
const perProcess = cpuDelta(snap0, cpuSnapshot(emulatorPids));
// `sluice make`, make, the recipe shells: gone by now, counted in this process's children's time.
perProcess['sluice make + make + recipe shells'] = exitedChildrenCpuMs() - makeSide0;
const requests1 = await emulatorRequests(emulatorPids);
const wallMs = await wallTimeBreakdown(built.jobId, seconds);
/** Requests per recipe each emulator served during the build, by operation. */
const requestsPerRecipe: Record<string, Record<string, number>> = {};
requestsPerRecipe.api = Object.fromEntries(
  Object.entries(apiRequests)
    .map(([k, n]): [string, number] => [k, Math.round(((n - (api0[k] ?? 0)) / targets) * 100) / 100])
    .filter(([, n]) => n > 0),
);
for (const [name, ops] of Object.entries(requests1)) {
  requestsPerRecipe[name] = Object.fromEntries(
    Object.entries(ops)
      .map(([op, n]): [string, number] => [
        op,
        Math.round(((n - (requests0[name]?.[op] ?? 0)) / targets) * 100) / 100,
      ])
      .filter(([, n]) => n > 0),
  );
}
/** CPU ms of this process's waited-for children (cutime + cstime of /proc/self/stat; 0 elsewhere). */
function exitedChildrenCpuMs(): number {
  try {
    const s = readFileSync('/proc/self/stat', 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) * 10; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

/**
 * Where a recipe's wall time went, from its task record (queued → claimed → finished) and, by
 * Little's law, the mean time make waited for it (64 recipes in flight / recipes per second): the
 * rest is the add request before the task is queued and the wait route noticing its end.
 */
async function wallTimeBreakdown(jobId: string | undefined, s: number): Promise<Record<string, number>> {
  if (!jobId) return {};
  const tasks = await stack.engine.tasks.listTasks(jobId);
  const ms = (xs: number[], q: number) => {
    const sorted = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN);
  };
  const queued = tasks.map((t) => (t.startedAt ?? Number.NaN) - t.queuedAt);
  const ran = tasks.map((t) => (t.finishedAt ?? Number.NaN) - (t.startedAt ?? Number.NaN));
  const mean = (xs: number[]) => xs.filter(Number.isFinite).reduce((a, b) => a + b, 0) / xs.length;
  const inMake = (Math.min(64, targets) / (targets / s)) * 1000;
  return {
    queuedP50: ms(queued, 0.5),
    queuedP90: ms(queued, 0.9),
    runP50: ms(ran, 0.5),
    runP90: ms(ran, 0.9),
    recipeMean: Math.round(inMake),
    // The size of a recipe's task input as stored (the emulator's ceiling is measured with it).
    inputBytes: Math.round(tasks.reduce((a, t) => a + JSON.stringify(t.input).length, 0) / tasks.length),
    addAndWaitMean: Math.round(inMake - mean(queued) - mean(ran)),
  };
}

console.log(
  JSON.stringify({
    wallMs,
    targets,
    seconds,
    recipesPerSecond: targets / seconds,
    plainRecipesPerSecond: targets / plainSeconds,
    requestsPerRecipe,
    cpuMsPerRecipeByProcess: Object.fromEntries(
      Object.entries(perProcess).map(([k, v]) => [k, Math.round((v / targets) * 10) / 10]),
    ),
  }),
);
await stack.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
