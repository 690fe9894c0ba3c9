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

async function engineRun(items: number, workers: number, events = false): Promise<Figures> {
  const { stdout } = await run(
    process.execPath,
    [
      '--import',
      'tsx',
      join(repoRoot, 'bench/engine-dispatch-child.ts'),
      String(items),
      String(workers),
      ...(events ? ['events'] : []),
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
  const watched: (Figures & { streamedBytes?: number })[] = [];
  for (let i = 0; i < 3; i++) {
    plain.push(await engineRun(items, workers));
    watched.push(await engineRun(items, workers, true));
  }
  const a = median(plain, (r) => r.tasksPerSecond);
  const b = median(watched, (r) => r.tasksPerSecond);
  const cost = ((a - b) / a) * 100;
  console.log('what\tvalue');
  console.log(`tasks/s without a dashboard (median of 3, ${items} echo + 1 reduce)\t${a.toFixed(0)}`);
  console.log(`tasks/s with the event stream open (median of 3)\t${b.toFixed(0)}`);
  console.log(`events streamed per run (bytes, median)\t${median(watched, (r) => r.streamedBytes ?? 0)}`);
  console.log(`cost of the event stream\t${cost.toFixed(1)}% (target < 5%: ${cost < 5 ? 'met' : 'NOT met'})`);
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
