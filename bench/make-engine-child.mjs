// `npm run bench -- make`'s engine-alone row: `sluice make`'s recipe dispatcher over the embedded
// engine, as the command builds them, fed recipes of `true` directly (no make, no recipe shell, no
// socket), `inFlight` at a time as make -j keeps them. What it prints is the engine's own cost,
// without make's, `touch`'s and the file system's, which move the whole-build figures by ±10%:
// the CPU of this process (every thread: V8's compiler and collector too) and of its main thread.
// Runs the build in dist/ (its file-for-file modules), as `sluice` does.
//
// Plain JavaScript, run by node alone: a TypeScript loader's hooks would slow the modules it loads.
//
// Usage: node bench/make-engine-child.mjs RECIPES IN_FLIGHT   (prints one JSON line)
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The V8 flags `sluice` runs with (bin/sluice.js applies them first thing).
createRequire(import.meta.url)('../bin/v8-flags.js').applyV8Flags();

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const recipes = Number(process.argv[2] ?? 2000);
const inFlight = Number(process.argv[3] ?? 64);

/** CPU ms of this process's main thread (Linux; NaN elsewhere). */
function mainThreadMs() {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { connectEngine } = await load('cli/connection.js');
const { RecipeDispatcher } = await load('cli/make/recipe-dispatcher.js');
const home = mkdtempSync(join(tmpdir(), 'sluice-bench-mke-'));
try {
  const env = { ...process.env, SLUICE_HOME: join(home, '.sluice') };
  const ctx = { stdout: process.stdout, stderr: process.stderr, env, cwd: home, exitCode: 0, isTTY: false };
  const { client } = await connectEngine(ctx, { closeOnSignal: false });
  const spoolDir = join(home, 'spool');
  mkdirSync(spoolDir);
  const d = new RecipeDispatcher({
    client,
    baseEnv: env,
    spoolDir,
    pipelineName: 'make',
    retry: 0,
    batchMs: 2,
  });
  // What the recipe server hands the dispatcher: the recipe shell's environment as strings.
  const environ = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadMs();
  const t0 = performance.now();
  let started = 0;
  let done = 0;
  let failed = 0;
  await new Promise((resolve) => {
    const next = () => {
      if (started >= recipes) return;
      const i = started++;
      d.recipe(
        { cwd: home, args: ['-c', 'true'], environ: [...environ, `SLUICE_MAKE_TARGET=out/t${i}`] },
        {
          stdout() {},
          stderr() {},
          exit(code) {
            if (code !== 0) failed++;
            if (++done === recipes) resolve();
            else next();
          },
        },
      );
    };
    for (let k = 0; k < inFlight; k++) next();
  });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const mainMs = mainThreadMs() - main0;
  const requests = d.requests;
  await d.close(0);
  await client.close();
  console.log(
    JSON.stringify({
      recipes,
      failed,
      perSecond: recipes / (ms / 1000),
      cpuUsPerRecipe: ((cpu.user + cpu.system) / recipes) | 0,
      mainUsPerRecipe: ((mainMs * 1000) / recipes) | 0,
      ...requests,
    }),
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}
