// The recipe shell binary: compiled from recipe-shell-source.ts with the system's C compiler the
// first time `sluice make` runs, and kept by content in a per-user cache directory.
import { compiledHelper, HelperBuildError } from '../../shared/io/native/compiled-helper.ts';
import { userCacheDir } from '../../shared/io/native/user-cache-dir.ts';
import { CliError } from '../errors.ts';
import { RECIPE_SHELL_C, RECIPE_SHELL_FLAGS } from './recipe-shell-source.ts';

export { userCacheDir };

/** The path of the compiled recipe shell, compiling it first if this version is not cached. */
export async function recipeShell(env: NodeJS.ProcessEnv): Promise<string> {
  try {
    return await compiledHelper('recipe-shell', RECIPE_SHELL_C, env, {
      flagSets: RECIPE_SHELL_FLAGS,
      // Run in place (no socket in its environment): proves the build starts, execs and exits.
      check: ['-c', 'exit 0'],
    });
  } catch (err) {
    if (!(err instanceof HelperBuildError)) throw err;
    throw new CliError(
      err.missingCompiler
        ? `sluice make needs a C compiler once, to build its recipe shell: "${err.compiler}" was not found (install gcc, e.g. \`apt-get install gcc\`, or set CC)`
        : err.message.replace('could not compile recipe-shell', 'could not compile the recipe shell'),
    );
  }
}
