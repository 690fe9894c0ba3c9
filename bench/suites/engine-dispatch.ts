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
  /** CPU time of the engine process (not its workers) per task. */
  engineCpuUsPerTask: number;
  /** CPU time of its worker processes per task (NaN where /proc is missing). */
  workersCpuUsPerTask: number;
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
 * `--dashboard`: the same run with and without an open event stream (a job page's: the job's
 * views; and a client of every event, each task's too), read by another process, alternated
 * `rounds` times. The cost is the drop in tasks/s, and the rise in the engine process's CPU per
 * task (the stream's work lands there; a loaded machine inflates it far less than tasks/s).
 */
async function dashboardCost(items: number, workers: number, rounds: number): Promise<void> {
  type Run = Awaited<ReturnType<typeof engineRun>>;
  const modes: [string, 'events' | 'events-all' | undefined][] = [
    ['no dashboard', undefined],
    ['a job page open (job events of the job)', 'events'],
    ['a client of every event (each task too)', 'events-all'],
  ];
  const runs: Run[][] = modes.map(() => []);
  const load: number[] = [];
  for (let i = 0; i < rounds; i++) {
    for (const [k, [, mode]] of modes.entries()) {
      load.push(loadavg()[0] ?? 0);
      runs[k]!.push(await engineRun(items, workers, mode));
    }
  }
  const rate = (rs: Run[]) => median(rs, (r) => r.tasksPerSecond);
  const cpu = (rs: Run[]) => median(rs, (r) => r.engineCpuUsPerTask);
  /** Engine and workers: the CPU a task costs the machine (the stream reader's left out). */
  const total = (rs: Run[]) => median(rs, (r) => r.engineCpuUsPerTask + r.workersCpuUsPerTask);
  const base = runs[0]!;
  console.log('what\tvalue');
  console.log(
    `machine\t${workers} cores, 1-min load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)} during the runs`,
  );
  console.log(
    `${modes[0]![0]} (median of ${rounds}, ${items} echo + 1 reduce, ${workers} workers)\t${rate(base).toFixed(0)} tasks/s, engine CPU ${cpu(base)} µs/task, engine + workers ${total(base)} µs/task`,
  );
  for (const [k, [what]] of modes.entries()) {
    if (k === 0) continue;
    const rs = runs[k]!;
    const drop = ((rate(base) - rate(rs)) / rate(base)) * 100;
    const more = cpu(rs) - cpu(base);
    // The stream's CPU as a share of what a task costs the machine: the drop in tasks/s it
    // means on a machine whose cores are all busy (as here: 2 workers on 2 cores).
    const share = (more / total(base)) * 100;
    console.log(
      `${what}\t${rate(rs).toFixed(0)} tasks/s (drop ${drop.toFixed(1)}%), engine CPU ${cpu(rs)} µs/task (${more >= 0 ? '+' : ''}${more} µs = ${share.toFixed(1)}% of engine + workers per task; target < 5%: ${share < 5 ? 'met' : 'NOT met'}), ${median(rs, (r) => r.streamedBytes ?? 0)} bytes streamed`,
    );
  }
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
      const rounds = Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3);
      await dashboardCost(items, workers, rounds);
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
