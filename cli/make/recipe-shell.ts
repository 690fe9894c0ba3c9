// The recipe shell binary: compiled from recipe-shell-source.ts with the system's C compiler the
// first time `sluice make` runs, and kept by content in a per-user cache directory.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { userCacheDir } from '../../shared/io/native/user-cache-dir.ts';
import { CliError } from '../errors.ts';
import { RECIPE_SHELL_C } from './recipe-shell-source.ts';

export { userCacheDir };

/** The path of the compiled recipe shell, compiling it first if this version is not cached. */
export async function recipeShell(env: NodeJS.ProcessEnv): Promise<string> {
  const dir = userCacheDir(env);
  const hash = createHash('sha256').update(RECIPE_SHELL_C).digest('hex').slice(0, 16);
  const bin = join(dir, `recipe-shell-${hash}`);
  try {
    await access(bin, constants.X_OK);
    return bin;
  } catch {
    /* not compiled yet */
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${bin}.${process.pid}`;
  const src = `${tmp}.c`;
  await writeFile(src, RECIPE_SHELL_C);
  const cc = env.CC ?? 'cc';
  try {
    await promisify(execFile)(cc, ['-O2', '-o', tmp, src]);
    await rename(tmp, bin);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new CliError(
      e.code === 'ENOENT'
        ? `sluice make needs a C compiler once, to build its recipe shell: "${cc}" was not found (install gcc, e.g. \`apt-get install gcc\`, or set CC)`
        : `could not compile the recipe shell with ${cc}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`,
    );
  } finally {
    await rm(src, { force: true });
    await rm(tmp, { force: true });
  }
  return bin;
}
