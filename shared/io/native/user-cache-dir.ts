// Where Sluice keeps per-user files it can rebuild: the C helpers it compiles at first use (the
// recipe shell of `sluice make`, the tree remover of `rm -r`).
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The per-user cache: $SLUICE_CACHE_DIR, else $XDG_CACHE_HOME/sluice, else ~/.cache/sluice. */
export function userCacheDir(env: NodeJS.ProcessEnv): string {
  return env.SLUICE_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'sluice');
}
