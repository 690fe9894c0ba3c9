// Dispatch throughput of the embedded engine: a `#[1...N]` batch of `echo` tasks plus a reduce,
// end to end through SQLite, the dispatcher and the worker pool; p50/p99 ready→started latency;
// and a 100,000-item batch's engine peak RSS. Baseline in the same run: GNU make -j running N
// one-process-per-task recipes (the GXP-make model of a task per recipe line).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type DispatchFigures, median } from '../dispatch-figures.ts';
import type { BenchSuite } from '../types.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Figures extends DispatchFigures {
  engineMaxRssMB: number;
}

async function engineRun(
  items: number,
  workers: number,
  events?: 'events' | 'events-all' | '',
  synchronous?: 'normal' | 'full',
): Promise<Figures & { streamedBytes?: number }> {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench/engine-dispatch-child.ts'),
      String(items),
      String(workers),
      events ?? '',
      ...(synchronous ? [`--synchronous=${synchronous}`] : []),
    ],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Figures;
}

async function makeRun(items: number, jobs: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-make-'));
  try {
    const targets = Array.from({ length: items }, (_, i) => `t${i}`);
    await writeFile(
      join(dir, 'Makefile'),
      `all: ${targets.join(' ')}\n.PHONY: all ${targets.join(' ')}\n$(filter t%,${'$'}(MAKECMDGOALS) ${targets.join(' ')}):\n\t@echo $@ >/dev/null\n`,
    );
    const t0 = performance.now();
    await run('make', ['-s', `-j${jobs}`, '-C', dir], { maxBuffer: 64 * 1024 * 1024 });
    return (performance.now() - t0) / 1000;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `--dashboard`: the same run with and without an open event stream (what the dashboard follows,
 * every event, read by another process), alternated 3 times; the cost is the drop in tasks/s.
 */
async function dashboardCost(items: number, workers: number): Promise<void> {
  const plain: Figures[] = [];
  const page: Awaited<ReturnType<typeof engineRun>>[] = [];
  const all: Awaited<ReturnType<typeof engineRun>>[] = [];
  for (let i = 0; i < 3; i++) {
    plain.push(await engineRun(items, workers));
    page.push(await engineRun(items, workers, 'events'));
    all.push(await engineRun(items, workers, 'events-all'));
  }
  const a = median(plain, (r) => r.tasksPerSecond);
  const cost = (runs: typeof page) => ((a - median(runs, (r) => r.tasksPerSecond)) / a) * 100;
  const row = (what: string, runs: typeof page) => {
    const c = cost(runs);
    console.log(
      `${what}\t${median(runs, (r) => r.tasksPerSecond).toFixed(0)} tasks/s, ${median(runs, (r) => r.streamedBytes ?? 0)} bytes streamed, cost ${c.toFixed(1)}% (target < 5%: ${c < 5 ? 'met' : 'NOT met'})`,
    );
  };
  console.log('what\tvalue');
  console.log(
    `no dashboard (median of 3, ${items} echo + 1 reduce, ${workers} workers)\t${a.toFixed(0)} tasks/s`,
  );
  row('a job page open (job events of the job)', page);
  row('a client of every event (each task too)', all);
}

/**
 * `--synchronous=compare`: SQLite `synchronous=FULL` (the default: commits survive a power cut)
 * against NORMAL, alternated `rounds` times in the same run; the cost is the drop in tasks/s.
 */
async function synchronousCost(items: number, workers: number, rounds: number): Promise<void> {
  const full: Figures[] = [];
  const normal: Figures[] = [];
  for (let i = 0; i < rounds; i++) {
    normal.push(await engineRun(items, workers, '', 'normal'));
    full.push(await engineRun(items, workers, '', 'full'));
  }
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const tps = (runs: Figures[]) => median(runs, (r) => r.tasksPerSecond);
  const row = (what: string, runs: Figures[]) =>
    console.log(
      `${what}\t${tps(runs).toFixed(0)} tasks/s (runs ${runs.map((r) => r.tasksPerSecond.toFixed(0)).join(', ')}), p50 / p99 ready→started ${median(runs, (r) => r.p50ReadyToStartedMs)} / ${median(runs, (r) => r.p99ReadyToStartedMs)} ms`,
    );
  console.log(`machine: ${workers} cores, load after ${load}`);
  console.log('what\tvalue');
  row(`synchronous=NORMAL (median of ${rounds}, ${items} echo + 1 reduce)`, normal);
  row(`synchronous=FULL (median of ${rounds}, alternated)`, full);
  console.log(`ratio FULL/NORMAL tasks/s\t${(tps(full) / tps(normal)).toFixed(2)}`);
}

export const engineDispatchSuite: BenchSuite = {
  name: 'engine-dispatch',
  description:
    'embedded engine: tasks/s and ready→started latency for a 20,000-item echo batch; 100k-item RSS',
  async unavailable() {
    try {
      await run('make', ['--version']);
      return undefined;
    } catch {
      return 'GNU make (the baseline) is not installed';
    }
  },
  async run(args) {
    const items = Number(args.find((a) => a.startsWith('--items='))?.slice(8) ?? 20_000);
    const workers = availableParallelism();
    const sync = args.find((a) => a.startsWith('--synchronous='))?.slice(14);
    if (sync === 'compare') {
      const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
      await synchronousCost(items, workers, rounds);
      return;
    }
    if (args.includes('--dashboard')) {
      await dashboardCost(items, workers);
      return;
    }
    console.log(
      `machine: ${workers} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const rounds: Figures[] = [];
    const makeSecs: number[] = [];
    for (let i = 0; i < 3; i++) {
      rounds.push(await engineRun(items, workers));
      makeSecs.push(await makeRun(items, workers));
    }
    const med = median;
    const tps = med(rounds, (r) => r.tasksPerSecond);
    const makeTps = (items + 1) / med(makeSecs, (s) => s);
    console.log('what\tvalue');
    console.log(
      `sluice tasks/s (median of 3, ${items} echo + 1 reduce, ${workers} workers)\t${tps.toFixed(0)}`,
    );
    console.log(
      `sluice p50 / p99 ready→started (ms)\t${med(rounds, (r) => r.p50ReadyToStartedMs)} / ${med(rounds, (r) => r.p99ReadyToStartedMs)}`,
    );
    console.log(`sluice engine peak RSS (MB)\t${med(rounds, (r) => r.engineMaxRssMB)}`);
    console.log(`make -j${workers} tasks/s (process per task, baseline)\t${makeTps.toFixed(0)}`);
    console.log(`ratio sluice/make\t${(tps / makeTps).toFixed(2)}`);
    console.log(`target >= 2000 tasks/s\t${tps >= 2000 ? 'met' : 'NOT met'}`);
    if (rounds.some((r) => r.status !== 'completed' || r.reducedItems !== items)) {
      console.log('WARNING: a run did not complete with every item reduced');
    }
    const big = await engineRun(100_000, workers);
    console.log(
      `100,000-item batch + reduce\t${big.status}, ${big.seconds.toFixed(1)} s, ${big.tasksPerSecond.toFixed(0)} tasks/s, engine peak RSS ${big.engineMaxRssMB} MB (target < 500 MB), reduce saw ${big.reducedItems} items`,
    );
  },
};
