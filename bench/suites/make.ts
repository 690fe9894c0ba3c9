// `sluice make` against plain GNU make in the same run: generated Makefiles of N independent no-op
// targets (`touch $@`) and a 3-level DAG (map over 2,000 inputs, 20 partial reduces, one final
// reduce), each through `make -j 64` and `sluice make -j 64` (the whole command: engine start,
// job, every recipe a task), with the CPU time each build took per recipe (what decides the rate
// on a shared machine). Each Makefile is also built through this design's floor: make, the recipe
// shell and the process starter with nothing between them (a server that starts each recipe the
// moment it arrives and answers when it exits: no engine, no job, no record), which is what the
// two extra process starts of a dispatched recipe cost here. Then the recipe shell's own cost
// against a process that answers at once: start-up to exit status, p50/p99. docs/make.md explains
// the figures.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listenForRecipes } from '../../cli/make/recipe-gateway.ts';
import { recipeShell } from '../../cli/make/recipe-shell.ts';
import { startRecipe } from '../../shared/builtins/make-recipe.ts';
import { closeProcessStarters } from '../../shared/io/native/process-starter.ts';
import type { BenchSuite } from '../types.ts';
import { runMakeOnAws } from './make-aws.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const JOBS = 64;
const ENGINE_CHILD = fileURLToPath(new URL('../make-engine-child.mjs', import.meta.url));

function noOpMakefile(n: number): string {
  const t = Array.from({ length: n }, (_, i) => `out/t${i}`);
  return `all: ${t.join(' ')}\nout/t%:\n\t@touch $@\n`;
}

function dagMakefile(inputs: number, parts: number): string {
  const lines = [`all: out/final\n`, 'out/m%:\n\t@echo $* > $@\n'];
  const per = inputs / parts;
  const partNames: string[] = [];
  for (let p = 0; p < parts; p++) {
    const deps = Array.from({ length: per }, (_, i) => `out/m${p * per + i}`);
    lines.push(`out/p${p}: ${deps.join(' ')}\n\t@cat $^ > $@\n`);
    partNames.push(`out/p${p}`);
  }
  lines.push(`out/final: ${partNames.join(' ')}\n\t@cat $^ | wc -l > $@\n`);
  return lines.join('');
}

/**
 * CPU seconds (user + system) of this process's waited-for children and theirs (Linux: fields
 * cutime and cstime of /proc/self/stat); undefined elsewhere. A build's CPU is the difference.
 */
function childrenCpu(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[13]) + Number(f[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return undefined;
  }
}

/**
 * The file system the builds run on, by name. It moves plain make's rate more than the load does:
 * a `touch` on this host's ext4 costs about twice its CPU on tmpfs, in plain make's builds as in
 * Sluice's, so the same engine shows a lower ratio on a faster file system (docs/make.md).
 */
function fileSystemOf(dir: string): string {
  const names: Record<number, string> = {
    61267: 'ext4',
    16914836: 'tmpfs',
    1481003842: 'xfs',
    2435016766: 'btrfs',
    2035054128: 'overlayfs',
    1785031267: 'virtiofs',
  };
  try {
    const type = statfsSync(dir).type;
    return names[type] ?? `file system 0x${type.toString(16)}`;
  } catch {
    return 'file system unknown';
  }
}

type Way = 'plain' | 'sluice' | 'floor';

/** Seconds for one build from scratch, and the CPU seconds it took (all its processes). */
async function build(base: string, makefile: string, way: Way): Promise<{ wall: number; cpu?: number }> {
  const dir = await mkdtemp(join(base, 'sluice-bench-mk-'));
  try {
    await writeFile(join(dir, 'Makefile'), makefile);
    await run('mkdir', ['-p', join(dir, 'out')]);
    const env = { ...process.env, SLUICE_HOME: join(dir, '.sluice') };
    const floor = way === 'floor' ? await floorServer(dir) : undefined;
    const c0 = childrenCpu();
    const own0 = process.cpuUsage();
    const t0 = performance.now();
    if (way === 'sluice')
      await run(process.execPath, [BIN, 'make', '-q', '-s', `-j${JOBS}`], { cwd: dir, env });
    else if (floor) await run('make', [...floor.args, '-s', `-j${JOBS}`], { cwd: dir, env: floor.env(env) });
    else await run('make', ['-s', `-j${JOBS}`], { cwd: dir, env });
    const wall = (performance.now() - t0) / 1000;
    // The floor's server is this process and the recipe gateway, its starter a child: both are reaped
    // at close, so their CPU counts.
    await floor?.close();
    const own = process.cpuUsage(own0);
    const c1 = childrenCpu();
    const mine = floor ? (own.user + own.system) / 1e6 : 0;
    return { wall, ...(c0 !== undefined && c1 !== undefined ? { cpu: c1 - c0 + mine } : {}) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The floor of this design: the recipe shell reaches a server that starts each recipe at once
 * through make-recipe's own start (the process starter, without the shell where the line needs
 * none) and answers with its exit status: what `sluice make` costs with its engine taken out.
 */
async function floorServer(dir: string) {
  const shell = await recipeShell(process.env);
  const spool = join(dir, 'spool');
  await mkdir(spool);
  const socket = join(dir, 'floor.sock');
  let n = 0;
  const server = await listenForRecipes(
    socket,
    {
      recipe: (req, reply) => {
        const id = ++n;
        const recipe = {
          target: '',
          argv: ['/bin/sh', ...req.args],
          cwd: req.cwd,
          env: {},
          unset: [],
          stdout: join(spool, `${id}.out`),
          stderr: join(spool, `${id}.err`),
        };
        startRecipe(recipe, req.environ, process.env)
          .then((p) => p.exited)
          .then(
            (e) => reply.exit(e.code ?? 128),
            () => reply.exit(127),
          );
      },
      interrupt: () => {},
    },
    process.env,
  );
  return {
    args: [`SHELL=${shell}`, '--eval', 'export SLUICE_MAKE_TARGET = $@'],
    env: (env: NodeJS.ProcessEnv) => ({ ...env, SLUICE_MAKE_SOCKET: socket }),
    close: async () => {
      await server.close();
      await closeProcessStarters(); // reaped: its CPU and its children's count in the build's
    },
  };
}

/**
 * `sluice make`'s recipe dispatcher and the engine alone (bench/make-engine-child.mjs): their CPU per
 * recipe without make, `touch` and the file system, whose costs move a whole build's figures by
 * ±10%. Medians of `rounds` runs.
 */
async function engineAlone(recipes: number, rounds: number, median: (xs: number[]) => number) {
  const runs: Record<'perSecond' | 'cpuUsPerRecipe' | 'mainUsPerRecipe' | 'add' | 'wait', number>[] = [];
  for (let r = 0; r < rounds; r++) {
    const { stdout } = await run(process.execPath, [ENGINE_CHILD, String(recipes), String(JOBS)]);
    runs.push(JSON.parse(stdout.trim().split('\n').at(-1) as string));
  }
  const m = (k: keyof (typeof runs)[number]) => median(runs.map((x) => x[k]));
  return {
    perSecond: m('perSecond'),
    cpuUs: m('cpuUsPerRecipe'),
    mainUs: m('mainUsPerRecipe'),
    add: m('add'),
    wait: m('wait'),
  };
}

/** The recipe shell's start-up and round trip to a process that answers each recipe at once. */
async function shellRoundTrips(n: number): Promise<{ p50: number; p99: number; localP50: number }> {
  const shell = await recipeShell(process.env);
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-rs-'));
  const socket = join(dir, 's.sock');
  const server = await listenForRecipes(
    socket,
    { recipe: (_r, reply) => reply.exit(0), interrupt: () => {} },
    process.env,
  );
  const once = (env: NodeJS.ProcessEnv, exe: string) =>
    new Promise<number>((resolve, reject) => {
      const t0 = performance.now();
      const c = spawn(exe, ['-c', 'true'], { env, stdio: 'ignore' });
      c.once('error', reject);
      c.once('exit', () => resolve(performance.now() - t0));
    });
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
  };
  try {
    const env = { ...process.env, SLUICE_MAKE_SOCKET: socket, SLUICE_MAKE_TARGET: 'x' };
    const remote: number[] = [];
    const local: number[] = [];
    for (let i = 0; i < n; i++) remote.push(await once(env, shell));
    for (let i = 0; i < n; i++) local.push(await once(process.env, '/bin/sh'));
    return { p50: pct(remote, 50), p99: pct(remote, 99), localP50: pct(local, 50) };
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const makeSuite: BenchSuite = {
  name: 'make',
  description:
    'sluice make -j 64 vs make -j 64: 2,000 and 10,000 no-op targets, a 3-level DAG; recipe shell cost',
  async unavailable() {
    try {
      await run('make', ['--version']);
      await run(process.env.CC ?? 'cc', ['--version']);
      return undefined;
    } catch {
      return 'GNU make (the baseline) or a C compiler (the recipe shell) is not installed';
    }
  },
  async run(args) {
    // `--aws`: `sluice make --endpoint` on the emulated AWS stack instead (make-aws.ts).
    if (args.includes('--aws')) return runMakeOnAws(args);
    const sizes = (args.find((a) => a.startsWith('--targets='))?.slice(10) ?? '2000,10000')
      .split(',')
      .map(Number);
    const load = () =>
      loadavg()
        .map((l) => l.toFixed(2))
        .join(' ');
    // `--dir=PATH`: where the builds run (default: the temp directory), e.g. /dev/shm for tmpfs.
    const base = args.find((a) => a.startsWith('--dir='))?.slice(6) || tmpdir();
    console.log(
      `machine: ${availableParallelism()} cores, load ${load()}; builds in ${base} (${fileSystemOf(base)})`,
    );
    const rs = await shellRoundTrips(500);
    // Rounds of plain, sluice and floor builds, alternated: the host's load moves plain make's rate
    // 2x from one minute to the next, so one round's ratio says little; the medians say more.
    const rounds = Math.max(1, Number(args.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 3));
    console.log(
      `what (medians of ${rounds} alternated rounds)\tplain make recipes/s\tsluice make recipes/s\tratio (min-max)\tfloor recipes/s (ratio)\tCPU ms per recipe (plain / sluice / floor)`,
    );
    const cases: [string, string, number][] = [
      ...sizes.map((n): [string, string, number] => [`${n} no-op targets`, noOpMakefile(n), n]),
      ['3-level DAG (2,000 maps, 20 reduces, 1 final)', dagMakefile(2000, 20), 2021],
    ];
    const median = (xs: number[]) => {
      const v = [...xs].sort((a, b) => a - b);
      const m = Math.floor(v.length / 2);
      return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
    };
    for (const [what, makefile, recipes] of cases) {
      const rate: Record<Way, number[]> = { plain: [], sluice: [], floor: [] };
      const cpu: Record<Way, number[]> = { plain: [], sluice: [], floor: [] };
      const ratio: number[] = [];
      const floorRatio: number[] = [];
      for (let r = 0; r < rounds; r++) {
        for (const way of ['plain', 'sluice', 'floor'] as const) {
          const b = await build(base, makefile, way);
          rate[way].push(recipes / b.wall);
          if (b.cpu !== undefined) cpu[way].push((1000 * b.cpu) / recipes);
        }
        ratio.push((rate.sluice.at(-1) as number) / (rate.plain.at(-1) as number));
        floorRatio.push((rate.floor.at(-1) as number) / (rate.plain.at(-1) as number));
      }
      const ms = (w: Way) => (cpu[w].length ? median(cpu[w]).toFixed(1) : '?');
      const spread = rounds > 1 ? ` (${Math.min(...ratio).toFixed(2)}-${Math.max(...ratio).toFixed(2)})` : '';
      console.log(
        `${what}\t${median(rate.plain).toFixed(0)}\t${median(rate.sluice).toFixed(0)}\t${median(ratio).toFixed(2)}${spread}\t${median(rate.floor).toFixed(0)} (${median(floorRatio).toFixed(2)})\t${ms('plain')} / ${ms('sluice')} / ${ms('floor')}`,
      );
    }
    console.log(
      `recipe shell start-up + round trip (ms, p50 / p99; /bin/sh -c true p50)\t${rs.p50.toFixed(2)} / ${rs.p99.toFixed(2)} (${rs.localP50.toFixed(2)})`,
    );
    const alone = await engineAlone(2000, rounds, median);
    console.log(
      `engine alone: 2000 recipes of true, 64 in flight, no make (medians)\t${alone.perSecond.toFixed(0)} recipes/s; node CPU ${alone.cpuUs} us per recipe, main thread ${alone.mainUs}; ${alone.add} add and ${alone.wait} wait requests`,
    );
    console.log(`load after\t${load()}`);
  },
};
