// A small C helper compiled with the system's C compiler the first time it is needed, and kept by
// content hash in the per-user cache, so every later run starts it at once.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { userCacheDir } from './user-cache-dir.ts';

/** Why a helper could not be built: the compiler is missing, or it refused the source. */
export class HelperBuildError extends Error {
  override name = 'HelperBuildError';
  constructor(
    message: string,
    readonly compiler: string,
    readonly missingCompiler: boolean,
  ) {
    super(message);
  }
}

/**
 * The path of the helper `name` built from `source` (C), compiling it first if not cached. With
 * `preferStatic` it is linked statically where the C library allows (else dynamically): a program
 * started once per recipe then skips the dynamic loader, about half of its ~2 ms start.
 */
export async function compiledHelper(
  name: string,
  source: string,
  env: NodeJS.ProcessEnv,
  opts: { preferStatic?: boolean } = {},
): Promise<string> {
  const dir = userCacheDir(env);
  const hash = createHash('sha256')
    .update(opts.preferStatic ? `${source}\0static` : source)
    .digest('hex')
    .slice(0, 16);
  const bin = join(dir, `${name}-${hash}`);
  try {
    await access(bin, constants.X_OK);
    return bin;
  } catch {
    /* not compiled yet */
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${bin}.${process.pid}`;
  const src = `${tmp}.c`;
  const cc = env.CC ?? 'cc';
  try {
    await writeFile(src, source);
    const compile = (flags: string[]) => promisify(execFile)(cc, ['-O2', ...flags, '-o', tmp, src]);
    if (opts.preferStatic) await compile(['-static']).catch(() => compile([]));
    else await compile([]);
    await rename(tmp, bin); // atomic: a concurrent build of the same source lands the same file
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    const missing = e.code === 'ENOENT';
    throw new HelperBuildError(
      missing
        ? `no C compiler ("${cc}") to build ${name}`
        : `could not compile ${name} with ${cc}: ${(e.stderr ?? e.message).trim().split('\n')[0]}`,
      cc,
      missing,
    );
  } finally {
    await rm(src, { force: true });
    await rm(tmp, { force: true });
  }
  return bin;
}
