// The `make-recipe` built-in: runs one recipe of `sluice make` as its shell line (the shell, make's
// .SHELLFLAGS and the recipe text), in make's directory with make's exported environment. The
// recipe writes its stdout and stderr straight into two spool files (no copy through this
// process) that `sluice make` follows and hands back to make while the recipe runs.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { SluiceError, ValidationError } from '../errors.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';

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

/** A recipe that exited non-zero: its exit status is the task's failure's details. */
export class RecipeFailedError extends SluiceError {
  override name = 'RecipeFailedError';
  constructor(
    message: string,
    readonly details: { exitCode: number },
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

export const makeRecipe: BuiltinAlgorithm = {
  name: 'make-recipe',
  description: 'Runs one recipe line of `sluice make` (its shell, flags and text) in its directory.',
  // It waits on a child process: many share one built-in host.
  ioBound: true,
  run: async (input, ctx) => {
    const r = parse(input);
    const env: NodeJS.ProcessEnv = { ...ctx.env, ...r.env };
    for (const k of r.unset) delete env[k];
    const out = openSync(r.stdout, 'w');
    const err = openSync(r.stderr, 'w');
    let exit: { code: number | null; signal: NodeJS.Signals | null };
    try {
      exit = await new Promise((resolve, reject) => {
        const [shell, ...args] = r.argv as [string, ...string[]];
        // Its own process group, so that a stop ends the recipe and everything it started.
        const child = spawn(shell, args, { cwd: r.cwd, env, stdio: ['ignore', out, err], detached: true });
        let killTimer: NodeJS.Timeout | undefined;
        const kill = () => {
          const group = (sig: NodeJS.Signals) => {
            try {
              if (child.pid) process.kill(-child.pid, sig);
            } catch {
              /* already gone */
            }
          };
          group('SIGTERM');
          killTimer = setTimeout(() => group('SIGKILL'), KILL_GRACE_MS);
          killTimer.unref();
        };
        ctx.signal.addEventListener('abort', kill, { once: true });
        child.once('error', reject);
        child.once('exit', (code, signal) => {
          ctx.signal.removeEventListener('abort', kill);
          if (killTimer && signal === null) clearTimeout(killTimer);
          resolve({ code, signal });
        });
      });
    } finally {
      closeSync(out);
      closeSync(err);
    }
    if (ctx.signal.aborted) throw Object.assign(new Error('recipe stopped'), { name: 'AbortError' });
    const exitCode = exit.code ?? 128 + (SIGNALS[exit.signal ?? ''] ?? 1);
    if (exitCode !== 0) {
      throw new RecipeFailedError(`recipe for ${r.target || 'make'} exited with status ${exitCode}`, {
        exitCode,
      });
    }
    return { exitCode: 0 };
  },
};
