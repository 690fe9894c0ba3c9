// A small C helper compiled with the system's C compiler the first time it is needed, and kept by
// content hash in the per-user cache, so every later run starts it at once. The worker bundle
// (scripts/bundle-worker.mjs) ships them compiled in helpers/ beside this module: the worker image
// then needs no compiler.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** Helpers compiled ahead, by the build of the worker bundle (none beside the sources). */
const PREBUILT_DIR = fileURLToPath(new URL('./helpers/', import.meta.url));

/** The file name of helper `name` built from `source`: a new source never runs an old binary. */
export function helperFileName(name: string, source: string, flagSets?: string[][]): string {
  const hash = createHash('sha256')
    .update(flagSets ? `${source}\0${JSON.stringify(flagSets)}` : source)
    .digest('hex')
    .slice(0, 16);
  return `${name}-${hash}`;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of the helper `name` built from `source` (C), compiling it first if not cached. With
 * `flagSets` the compiler's extra flags are tried in order (e.g. without the C library, then
 * static, then plain) and the first build that compiles, and runs `check` with exit status 0 when
 * one is given, is kept: a program started once per recipe then starts as cheaply as the system
 * allows, and still builds where it cannot.
 */
export async function compiledHelper(
  name: string,
  source: string,
  env: NodeJS.ProcessEnv,
  opts: { flagSets?: string[][]; check?: string[] } = {},
): Promise<string> {
  const file = helperFileName(name, source, opts.flagSets);
  const prebuilt = join(PREBUILT_DIR, file);
  if (await executable(prebuilt)) return prebuilt;
  const dir = userCacheDir(env);
  const bin = join(dir, file);
  if (await executable(bin)) return bin;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${bin}.${process.pid}`;
  const src = `${tmp}.c`;
  const cc = env.CC ?? 'cc';
  try {
    await writeFile(src, source);
    const sets = opts.flagSets ?? [[]];
    for (let i = 0; ; i++) {
      try {
        await promisify(execFile)(cc, ['-O2', ...sets[i]!, '-o', tmp, src]);
        if (opts.check) await promisify(execFile)(tmp, opts.check, { env: {}, timeout: 10_000 });
        break;
      } catch (err) {
        if (i === sets.length - 1 || (err as NodeJS.ErrnoException).code === 'ENOENT') throw err;
      }
    }
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
