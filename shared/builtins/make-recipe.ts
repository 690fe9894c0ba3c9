// The `make-recipe` built-in: runs one recipe of `sluice make` as its shell line (the shell, make's
// .SHELLFLAGS and the recipe text), in make's directory with make's exported environment. The
// recipe's stdout and stderr go into two spool files (never through this process) that `sluice
// make` follows and hands back to make while the recipe runs. Processes start through the compiled
// process starter (no fork of this Node.js process; it creates a spool file only when the recipe
// writes to it), and a line with nothing for the shell to do runs without the shell, as GNU make
// itself does (recipe-command.ts).
import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync, unlinkSync } from 'node:fs';
import { SluiceError, ValidationError } from '../errors.ts';
import {
  mergedEnvList,
  type ProcessExit,
  ProcessStarter,
  processStarterHelper,
  type StartedProcess,
} from '../io/native/process-starter.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { directCommand } from './recipe-command.ts';

/** The one input item of a recipe task. */
export interface RecipeInput {
  /** The target make builds with it (for people reading the task). */
  target: string;
  /** What make ran as its shell: [shell, ...flags, recipe]. */
  argv: string[];
  cwd: string;
  /** Variables that differ from the environment `sluice make` started make with. */
  env: Record<string, string>;
  /** Variables make removed from that environment. */
  unset: string[];
  /** Spool files the recipe's stdout and stderr go to. */
  stdout: string;
  stderr: string;
}

/**
 * Bytes the recipe wrote to its spool files, in its result (or failure details): `sluice make`
 * reads a file only when it holds more than it passed on already. A recipe that wrote nothing to
 * a stream has no file for it.
 */
export interface RecipeOutputSizes {
  stdoutBytes: number;
  stderrBytes: number;
}

/** A recipe that exited non-zero: its exit status is the task's failure's details. */
export class RecipeFailedError extends SluiceError {
  override name = 'RecipeFailedError';
  constructor(
    message: string,
    readonly details: { exitCode: number } & RecipeOutputSizes,
  ) {
    super(message, 'RECIPE_FAILED', 500, { retryable: false });
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
const KILL_GRACE_MS = 2000;

function parse(input: unknown[]): RecipeInput {
  const r = input[0] as Partial<RecipeInput> | undefined;
  const strs = (v: unknown) => Array.isArray(v) && v.every((s) => typeof s === 'string');
  if (
    !r ||
    typeof r !== 'object' ||
    !strs(r.argv) ||
    (r.argv as string[]).length === 0 ||
    typeof r.cwd !== 'string' ||
    typeof r.stdout !== 'string' ||
    typeof r.stderr !== 'string' ||
    typeof r.env !== 'object' ||
    !strs(r.unset)
  ) {
    throw new ValidationError('make-recipe takes one {argv, cwd, env, unset, stdout, stderr} item', 'input');
  }
  return r as RecipeInput;
}

/** ctx.env as a plain object, copied once: spreading process.env reads every variable from the OS. */
let baseEnv: { of: NodeJS.ProcessEnv; copy: NodeJS.ProcessEnv } | undefined;
function plainEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (baseEnv?.of !== env) baseEnv = { of: env, copy: { ...env } };
  return baseEnv.copy;
}

/** One starter per process, started with the first recipe; spawn where none can be built. */
let starter: Promise<ProcessStarter | undefined> | undefined;
async function processStarter(env: NodeJS.ProcessEnv): Promise<ProcessStarter | undefined> {
  starter ??= processStarterHelper(env).then((bin) => (bin ? ProcessStarter.launch(bin) : undefined));
  const s = await starter;
  if (s && !s.alive) {
    starter = undefined; // it died: the next recipe gets a new one
    return processStarter(env);
  }
  return s;
}

/** Node's spawn, where there is no process starter: the same contract. */
function spawnProcess(
  argv: string[],
  cwd: string,
  list: NodeJS.ProcessEnv | string[],
  out: string,
  err: string,
) {
  const env = Array.isArray(list)
    ? Object.fromEntries(
        list.map((kv) => {
          const eq = kv.indexOf('=');
          return [kv.slice(0, eq), kv.slice(eq + 1)];
        }),
      )
    : list;
  const o = openSync(out, 'w');
  const e = openSync(err, 'w');
  return new Promise<StartedProcess>((resolve, reject) => {
    const [file, ...args] = argv as [string, ...string[]];
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', o, e], detached: true });
    const exited = new Promise<ProcessExit>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.once('error', reject);
    child.once('spawn', () =>
      resolve({
        pid: child.pid as number,
        exited,
        killGroup: (sig) => {
          try {
            if (child.pid) process.kill(-child.pid, sig);
          } catch {
            /* already gone */
          }
        },
      }),
    );
  }).finally(() => {
    closeSync(o);
    closeSync(e);
  });
}

/** Starts a recipe's line (without the shell where it needs none), as its task runs it. */
export async function startRecipe(
  r: RecipeInput,
  env: NodeJS.ProcessEnv | string[],
  /** Where the process starter is found or built (its cache directory, the C compiler). */
  hostEnv: NodeJS.ProcessEnv = Array.isArray(env) ? process.env : env,
): Promise<StartedProcess> {
  const s = await processStarter(hostEnv);
  const start = (argv: string[]) =>
    s
      ? s.start({ argv, cwd: r.cwd, env, stdout: r.stdout, stderr: r.stderr })
      : spawnProcess(argv, r.cwd, env, r.stdout, r.stderr);
  const direct = directCommand(r.argv);
  if (direct) {
    try {
      return await start(direct);
    } catch {
      // Not found, not executable...: the shell says so in its own words (and exits 127 or 126).
    }
  }
  return start(r.argv);
}

/**
 * The sizes of the spool files: as the process starter reported them (it creates a file only when
 * its first byte comes), or read here after spawn, which created both (empty ones are removed).
 */
function outputSizes(r: RecipeInput, exit: ProcessExit): RecipeOutputSizes {
  if (exit.bytes) return { stdoutBytes: exit.bytes[0], stderrBytes: exit.bytes[1] };
  const size = (f: string) => {
    try {
      const n = statSync(f).size;
      if (n === 0) unlinkSync(f);
      return n;
    } catch {
      return 0;
    }
  };
  return { stdoutBytes: size(r.stdout), stderrBytes: size(r.stderr) };
}

export const makeRecipe: BuiltinAlgorithm = {
  name: 'make-recipe',
  description: 'Runs one recipe line of `sluice make` (its shell, flags and text) in its directory.',
  // It waits on a child process it starts through the process starter: many share one slot, in
  // the pool's own process (a builtin host's round trip cost more than the rest of the task).
  ioBound: true,
  inProcess: true,
  run: async (input, ctx) => {
    const r = parse(input);
    const child = await startRecipe(r, mergedEnvList(plainEnv(ctx.env), r.env, r.unset), ctx.env);
    // Its own process group, so that a stop ends the recipe and everything it started.
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      child.killGroup('SIGTERM');
      killTimer = setTimeout(() => child.killGroup('SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    if (ctx.signal.aborted) kill();
    else ctx.signal.addEventListener('abort', kill, { once: true });
    const exit = await child.exited;
    ctx.signal.removeEventListener('abort', kill);
    if (killTimer && exit.signal === null) clearTimeout(killTimer);
    if (ctx.signal.aborted) throw Object.assign(new Error('recipe stopped'), { name: 'AbortError' });
    const sizes = outputSizes(r, exit);
    const exitCode = exit.code ?? 128 + (SIGNALS[exit.signal ?? ''] ?? 1);
    if (exitCode !== 0) {
      throw new RecipeFailedError(`recipe for ${r.target || 'make'} exited with status ${exitCode}`, {
        exitCode,
        ...sizes,
      });
    }
    return { exitCode: 0, ...sizes };
  },
};
