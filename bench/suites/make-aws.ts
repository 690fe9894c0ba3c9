// `npm run bench -- make --aws`: `sluice make --endpoint` on the emulated AWS stack (issue 15's
// "AWS adapters on the emulators: >= 100 recipes/s"): each emulator in its own process, the stack
// and the builds in a child (bench/make-aws-child.ts), plain `make -j 64` on the same Makefile in
// the same run, and where each recipe's CPU goes.
import { execFile } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { provisionAwsResources } from '../../shared/runtime/aws-emulated/provision.ts';
import { startEmulators } from '../../test/helpers/aws-emulators.ts';
import { conditionalUpdatesPerSecond } from './aws-dispatch.ts';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface MakeAwsFigures {
  targets: number;
  seconds: number;
  recipesPerSecond: number;
  plainRecipesPerSecond: number;
  cpuMsPerRecipeByProcess: Record<string, number>;
  requestsPerRecipe: Record<string, Record<string, number>>;
  wallMs: Record<string, number>;
}

export async function runMakeOnAws(args: string[]): Promise<void> {
  const flag = (name: string, fallback: number) =>
    Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback);
  const targets = flag('aws-targets', 500);
  const slots = flag('aws-slots', 4);
  const rounds = flag('rounds', 1);
  const emu = await startEmulators({ processes: true });
  try {
    Object.assign(process.env, emu.env);
    const load = () => loadavg()[0]?.toFixed(1) ?? '?';
    console.log('what\tvalue');
    for (let i = 0; i < rounds; i++) {
      const before = load();
      const { env } = await provisionAwsResources({ prefix: `bench-mk-${Date.now().toString(36)}` });
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', 'bench/make-aws-child.ts', String(targets), String(slots)],
        {
          cwd: repoRoot,
          env: { ...process.env, ...env, SLUICE_BENCH_EMULATOR_PIDS: JSON.stringify(emu.pids ?? {}) },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const f = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as MakeAwsFigures;
      const cpu = Object.entries(f.cpuMsPerRecipeByProcess).filter(([, ms]) => ms > 0);
      const total = cpu.reduce((a, [, ms]) => a + ms, 0);
      console.log(
        `sluice make -j 64 --endpoint on the emulated stack, ${targets} no-op targets, worker × ${slots} (load ${before})\t${f.recipesPerSecond.toFixed(0)} recipes/s (${f.seconds.toFixed(1)} s); plain make -j 64: ${f.plainRecipesPerSecond.toFixed(0)}/s`,
      );
      console.log(
        `CPU ms per recipe, all processes\t${total.toFixed(1)} (${cpu
          .sort((a, b) => b[1] - a[1])
          .map(([k, ms]) => `${k} ${ms}`)
          .join(', ')})`,
      );
      const w = f.wallMs ?? {};
      console.log(
        `wall ms per recipe (task records; make's mean by Little's law)\tin make ${w.recipeMean} = queued for a worker p50 ${w.queuedP50} (p90 ${w.queuedP90}) + on the worker p50 ${w.runP50} (p90 ${w.runP90}) + add and wait ${w.addAndWaitMean} (means)`,
      );
      for (const [emulator, ops] of Object.entries(f.requestsPerRecipe ?? {}))
        console.log(
          `${emulator} requests per recipe\t${Object.values(ops)
            .reduce((a, b) => a + b, 0)
            .toFixed(2)} (${Object.entries(ops)
            .sort((a, b) => b[1] - a[1])
            .map(([op, n]) => `${op} ${n}`)
            .join(', ')})`,
        );
      // The floor the issue names: the emulated table's write rate, with items of a recipe's size,
      // measured now (same load), divided by the writes a recipe costs.
      const ceiling = await conditionalUpdatesPerSecond(2000, w.inputBytes ?? 0);
      const dynamo = f.requestsPerRecipe.dynamodb ?? {};
      const writes = (dynamo.UpdateItem ?? 0) + (dynamo.PutItem ?? 0) + 1; // + the task's own item (batched)
      const floor = ceiling / writes;
      console.log(
        `the emulated table's write rate here (conditional UpdateItems/s, 32 in flight, ${w.inputBytes} B input; load ${load()})\t${ceiling.toFixed(0)}/s; ${writes.toFixed(1)} writes per recipe: at most ${floor.toFixed(0)} recipes/s; measured ${f.recipesPerSecond.toFixed(0)} = ${((f.recipesPerSecond / floor) * 100).toFixed(0)}% of it`,
      );
      // The other floor: every process of the chain shares this machine's cores.
      const cores = availableParallelism();
      console.log(
        `what the CPU allows (${cores} cores ÷ ${total.toFixed(1)} ms per recipe, every core to this run)\tat most ${((cores * 1000) / total).toFixed(0)} recipes/s; measured ${((f.recipesPerSecond / ((cores * 1000) / total)) * 100).toFixed(0)}% of it`,
      );
      console.log(
        `target >= 100 recipes/s on the emulators\t${f.recipesPerSecond >= 100 ? 'met' : 'NOT met'}`,
      );
    }
  } finally {
    await emu.close();
  }
}
