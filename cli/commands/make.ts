// `sluice make [MAKE ARGS...]`: runs the system's GNU make with SHELL set to the recipe shell, so
// every recipe line becomes a task of one Sluice job (cli/make/*). Make stays the dependency
// engine: -j, -k, -n, -B, -C, -f, --output-sync and re-running to resume behave as they do locally.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { sluiceHome } from '../../shared/runtime/embedded/local-engine.ts';
import { connectEngine, type SluiceClient } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { RecipeDispatcher } from '../make/recipe-dispatcher.ts';
import { listenForRecipes } from '../make/recipe-gateway.ts';
import { recipeShell } from '../make/recipe-shell.ts';
import { parseWorkers } from './workers-flag.ts';

export interface MakeFlags {
  retry?: string;
  workers?: string;
  endpoint?: string;
  spool?: string;
  priority?: string;
  pathMap?: string;
  quiet?: boolean;
}

/** `--path-map LOCAL=REMOTE`: absolute directories, trailing slashes dropped. */
function parsePathMap(v: string | undefined): [string, string] | undefined {
  if (v === undefined) return undefined;
  const [local, remote, ...rest] = v.split('=');
  const clean = (p: string | undefined) => (p && p.length > 1 ? p.replace(/\/+$/, '') : p);
  const l = clean(local);
  const r = clean(remote);
  if (rest.length || !l?.startsWith('/') || !r?.startsWith('/'))
    throw new CliError(`--path-map must be LOCAL=REMOTE with two absolute directories (got "${v}")`);
  return [l, r];
}

/** What the recipe shell reads: which target a recipe is for, and whether it runs in place. */
const MAKE_EVALS = [
  'export SLUICE_MAKE_TARGET = $@',
  'export SLUICE_MAKE_LOCAL = $(if $(filter $(SLUICE_LOCAL),$@),1)',
];

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

async function findGnuMake(env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = env.SLUICE_MAKE
    ? [env.SLUICE_MAKE]
    : (env.PATH ?? '').split(delimiter).flatMap((d) => (d ? [join(d, 'make'), join(d, 'gmake')] : []));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK); // a failed spawn per PATH entry costs more than a stat
      const { stdout } = await promisify(execFile)(c, ['--version']);
      if (stdout.startsWith('GNU Make')) return resolve(c);
    } catch {
      /* not there, or not GNU make */
    }
  }
  throw new CliError(
    'sluice make runs GNU make, which was not found on PATH: install the "make" package (e.g. `apt-get install make`), or name it in SLUICE_MAKE',
  );
}

function intFlag(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new CliError(`--${name} must be an integer from ${min} to ${max} (got "${v}")`);
  return n;
}

/**
 * How long recipes are gathered into one add request (ms): with --endpoint each request is a round
 * trip to the API; on this machine each is a transaction and a write of the job's state.
 */
const REMOTE_BATCH_MS = 10;
const LOCAL_BATCH_MS = 2;

/** Whether make is told how many jobs to run (on the command line or in MAKEFLAGS). */
function givesJobs(args: string[], env: NodeJS.ProcessEnv): boolean {
  const j = (a: string) => /^-[^-]*j/.test(a) || a.startsWith('--jobs');
  return args.some(j) || (env.MAKEFLAGS ?? '').split(/\s+/).some(j);
}

const ENDED = ['completed', 'failed', 'stopped'];

/**
 * The job's status once it has ended, within 30 s of its close: on AWS the status function may
 * count the last outcomes a moment after their task records say finished (which is what make
 * waited on), so a job just closed can still be active.
 */
async function endOf(client: SluiceClient, jobId: string, status: string): Promise<string> {
  for (let i = 0; !ENDED.includes(status) && !status.startsWith('not closed') && i < 300; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await client.call<{ status: string }>('GET', `/exec/status/${encodeURIComponent(jobId)}`))
      .status;
  }
  return status;
}

export async function runMake(ctx: CliContext, args: string[], flags: MakeFlags): Promise<void> {
  const retry = intFlag(flags.retry, 'retry', 0, 100) ?? 0;
  const priority = intFlag(flags.priority, 'priority', 1, 5);
  const workers = parseWorkers(flags.workers);
  const pathMap = parsePathMap(flags.pathMap);
  const endpoint = flags.endpoint ?? ctx.env.SLUICE_ENDPOINT;
  if (endpoint && !flags.spool) {
    throw new CliError(
      '--endpoint needs --spool DIR: a directory on the volume the workers share (recipes write their output there)',
    );
  }
  // Make is found (`make --version`, another process) while the engine starts, and started before
  // the engine is up: its first recipes wait in the dispatcher. A short build paid the three one
  // after the other (~35 ms of a one-recipe build's 180).
  const tools = Promise.all([findGnuMake(ctx.env), recipeShell(ctx.env)]);
  const engine = connectEngine(ctx, {
    ...(endpoint ? { endpoint } : {}),
    ...(workers ? { workers } : {}),
    closeOnSignal: false,
  });
  engine.catch(() => {}); // awaited below (a failed start must not go unhandled meanwhile)
  let make: string;
  let shell: string;
  try {
    [make, shell] = await tools;
  } catch (err) {
    await engine.then(({ client }) => client.close()).catch(() => {});
    throw err;
  }
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const spoolDir = resolve(ctx.cwd, flags.spool ?? join(sluiceHome(ctx.env, ctx.cwd), 'make'), runId);
  await mkdir(spoolDir, { recursive: true });
  const socketPath = join(tmpdir(), `sluice-make-${runId}.sock`);
  const client = engine.then((e) => e.client);
  client.catch(() => {}); // the dispatcher's calls see the failure; so does the await after make
  const makeEnv: NodeJS.ProcessEnv = {
    ...ctx.env,
    SLUICE_MAKE_SOCKET: socketPath,
    SLUICE_MAKE_PROGRAM: make,
    SLUICE_MAKE_REAL_SHELL: '/bin/sh',
  };
  const dispatcher = new RecipeDispatcher({
    client,
    baseEnv: makeEnv,
    spoolDir,
    pipelineName: 'make',
    retry,
    ...(priority !== undefined ? { priority } : {}),
    ...(pathMap ? { pathMap } : {}),
    // Gather the recipes make starts within a few ms into one add (see the constants).
    batchMs: endpoint ? REMOTE_BATCH_MS : LOCAL_BATCH_MS,
  });
  let interrupted: NodeJS.Signals | undefined;
  const server = await listenForRecipes(
    socketPath,
    {
      recipe: (req, reply) => dispatcher.recipe(req, reply),
      interrupt: () => void dispatcher.stop('make was interrupted'),
    },
    ctx.env,
    (why) => ctx.stderr.write(`sluice make: ${why}: recipes cannot reach this process\n`),
  );
  let status: number;
  const offSignals: (() => void)[] = [];
  try {
    const jobs = givesJobs(args, ctx.env)
      ? []
      : ['-j', String(workers ?? (endpoint ? 64 : availableParallelism()))];
    const evals = MAKE_EVALS.flatMap((e) => ['--eval', e]);
    const child = spawn(make, [`SHELL=${shell}`, ...evals, ...jobs, ...args], {
      cwd: ctx.cwd,
      env: makeEnv,
      stdio: ['inherit', 'inherit', 'inherit'],
    });
    for (const sig of Object.keys(SIGNAL_EXIT) as NodeJS.Signals[]) {
      const on = () => {
        interrupted ??= sig;
        void dispatcher.stop(`sluice make got ${sig}`);
        // Ctrl-C reaches make through the terminal; a signal sent to this process alone is passed on.
        if (sig !== 'SIGINT') child.kill(sig);
      };
      process.on(sig, on);
      offSignals.push(() => process.off(sig, on));
    }
    status = await new Promise<number>((res, rej) => {
      child.once('error', (err) => rej(new CliError(`could not start ${make}: ${err.message}`)));
      child.once('exit', (code, signal) =>
        res(code ?? 128 + (signal ? (SIGNAL_EXIT[signal] ?? 1) - 128 : 1)),
      );
    });
  } finally {
    await server.close();
    await rm(socketPath, { force: true });
  }
  const started = await client.catch(async (err) => {
    for (const off of offSignals) off();
    await rm(spoolDir, { recursive: true, force: true });
    throw err;
  });
  try {
    const closed = await dispatcher.close(status);
    if (ctx.env.SLUICE_DEBUG) {
      const r = dispatcher.requests;
      ctx.stderr.write(
        `sluice make: ${dispatcher.recipes} recipes, ${r.add} add and ${r.wait} wait requests\n`,
      );
    }
    if (closed && !flags.quiet) {
      const final = await endOf(started, closed.jobId, closed.status);
      ctx.stderr.write(`sluice make: job ${closed.jobId} ${final}\n`);
    }
  } finally {
    await started.close();
    await rm(spoolDir, { recursive: true, force: true });
    for (const off of offSignals) off();
  }
  ctx.exitCode = interrupted ? (SIGNAL_EXIT[interrupted] ?? 1) : status;
}

export function registerMake(program: Command, ctx: CliContext): void {
  program
    .command('make')
    .description('run GNU make with every recipe as a task of one Sluice job (on this machine or --endpoint)')
    .argument('[make-args...]', 'arguments for make (targets, -j, -k, -n, -C, -f, VAR=value...)')
    .option('--retry <n>', 'run a recipe whose worker crashed again, up to n times (default 0)')
    .option('--workers <n>', 'worker processes when the engine runs in this process (default: CPU count)')
    .option('--priority <1-5>', 'priority of the job (5 is the most urgent; default 3)')
    .option('--endpoint <url>', 'run the recipes on the Sluice API at this URL (AWS)')
    .option(
      '--spool <dir>',
      'where recipes write their output for make (with --endpoint: on the shared volume)',
    )
    .option(
      '--path-map <local=remote>',
      'a directory of this machine and where the workers see it (e.g. /efs=/mnt/sluice)',
    )
    .option('-q, --quiet', 'do not print the job line at the end')
    .allowUnknownOption()
    .helpOption('--help', 'show this help (make’s own: sluice make -- --help)')
    .addHelpText(
      'after',
      '\nmake runs here as usual; its SHELL hands each recipe line to the engine. -j defaults to the\n' +
        'number of workers. Recipes of targets listed in the make variable SLUICE_LOCAL (patterns with %),\n' +
        'lines that call $(MAKE), and $(shell ...) run here, not as tasks.\n' +
        '\nExit status: make’s. A recipe whose worker crashed exits 121, a stopped one 122, one that\n' +
        'could not be dispatched 123; Ctrl-C stops every recipe and exits 130.\n' +
        '\nExamples:\n' +
        '  sluice make -j 16 all\n' +
        '  sluice make -k --retry 2 -C data/\n' +
        '  sluice make -n               print what would run; dispatches nothing\n',
    )
    .action(async (makeArgs: string[], flags: MakeFlags) => runMake(ctx, makeArgs, flags));
}
