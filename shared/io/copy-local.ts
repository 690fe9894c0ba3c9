// Copies between local paths: regular files (whole-buffer or chunked, via a temp name then
// rename), symlinks as symlinks, directories with their modes and mtimes, empty ones included.
import { randomBytes } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { WHOLE_FILE_MAX } from './constants.ts';
import { cannotWrite, IoItemError } from './errors.ts';
import type { IoTally } from './failures.ts';
import { readChunks } from './file-read.ts';
import { type LocalFile, type LocalFs, PROC_FD, threadedFs } from './local-fs.ts';
import type { MemoryBudget } from './memory-budget.ts';
import type { PathFilter } from './path-filter.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { TaskPool } from './task-pool.ts';
import {
  type DirEntryInfo,
  joinRel,
  type ListedDirectory,
  openListedFile,
  releaseAfter,
  walkLocalTree,
} from './walk.ts';

export interface LocalCopyContext {
  pool: TaskPool;
  budget: MemoryBudget;
  tally: IoTally;
  update: boolean;
  /** How file calls are made (local-fs.ts); threaded when absent. */
  fs?: LocalFs;
  /** --include/--exclude: files it does not select are left out, directories it prunes are not walked. */
  filter?: PathFilter;
  /** Files (relative to the source root) already known identical (--checksum): skipped. */
  unchanged?: ReadonlySet<string>;
  /** --bwlimit: bytes are asked of it before they move. */
  rate?: RateLimiter;
}

/** What to do with the file at `rel` (relative to the source root): copy it, skip it (up to date), or leave it out. */
export function selectFile(ctx: LocalCopyContext, rel: string): 'copy' | 'skip' | 'exclude' {
  if (ctx.filter && !ctx.filter.selects(rel)) return 'exclude';
  if (ctx.unchanged?.has(rel)) return 'skip';
  return 'copy';
}

const UMASK = process.umask();
const TMP_TAG = `${process.pid}-${randomBytes(3).toString('hex')}`;
let tmpSeq = 0;

/** A temp name next to `dst` (same directory, so the final rename is atomic). Short on purpose. */
export function tempNameFor(dst: string): string {
  return `${dirname(dst)}/.sluice-${TMP_TAG}-${(tmpSeq++).toString(36)}.tmp`;
}

/** mtimes that differ by less than 1 ms are the same (utimes goes through a double). */
export function sameMtime(a: number, b: number): boolean {
  return Math.abs(a - b) < 1;
}

async function writeAttributes(out: LocalFile, st: Stats): Promise<void> {
  const mode = st.mode & 0o7777;
  if ((mode & ~UMASK) !== mode) await out.chmod(mode);
  await out.utimes(st.atimeMs / 1000, st.mtimeMs / 1000);
}

/**
 * Copies one regular file, keeping mode and mtime; lands by rename, so `dst` is never partial.
 * The source is opened once without following a symlink (`src` may be `${dir.at}/${name}` from the
 * walk; `shownAs` is its path for messages and the log), and everything is read through that open
 * file: small files go through copyFile of its `/proc/self/fd/N` (one threadpool job: open,
 * sendfile/copy_file_range in the kernel, fchmod to the source mode), which costs a third of the
 * read/write path's JS work on a local disk and the same round trips on a network volume; larger
 * ones are read from the fd.
 */
export async function copyLocalFile(
  src: string,
  dst: string,
  ctx: LocalCopyContext,
  shownAs = src,
): Promise<void> {
  const fs = ctx.fs ?? threadedFs;
  const inp = await openListedFile(fs, src);
  try {
    const st = await inp.stat();
    if (!st.isFile()) throw new IoItemError('not a regular file', 'NOT_A_FILE');
    if (ctx.update) {
      const d = await fs.lstat(dst).catch(() => undefined);
      if (d?.isFile() && d.size === st.size && sameMtime(d.mtimeMs, st.mtimeMs)) {
        ctx.tally.skipFile();
        return;
      }
    }
    const tmp = tempNameFor(dst);
    try {
      if (st.size <= (ctx.rate ? Math.min(WHOLE_FILE_MAX, ctx.rate.chunkSize) : WHOLE_FILE_MAX)) {
        if (ctx.rate) await ctx.rate.take(st.size);
        const opened = PROC_FD ? `/proc/self/fd/${inp.fd}` : src;
        await fs.copyFile(opened, tmp, constants.COPYFILE_EXCL).catch((err: NodeJS.ErrnoException) => {
          if (err.path === opened) err.path = src; // a source error names the source
          throw err;
        });
        await fs.utimes(tmp, st.atimeMs / 1000, st.mtimeMs / 1000);
      } else await copyLargeFile(inp, tmp, st, ctx, fs);
      await fs.rename(tmp, dst);
      ctx.tally.copied(shownAs, dst, st.size);
    } catch (err) {
      await fs.unlink(tmp).catch(() => {});
      // copyFile's error names the source even when the destination is the problem: say which.
      if (await cannotWriteIn(dirname(dst))) throw cannotWrite(dst, err);
      throw err;
    }
  } finally {
    await inp.close().catch(() => {});
  }
}

async function cannotWriteIn(dir: string): Promise<boolean> {
  const st = await stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) return true;
  return access(dir, constants.W_OK).then(
    () => false,
    () => true,
  );
}

/**
 * A large file as chunks read at several offsets at once (a network volume gives one sequential
 * reader ~2 requests in flight), written at their positions, within the memory budget.
 */
async function copyLargeFile(
  inp: LocalFile,
  tmp: string,
  st: Stats,
  ctx: LocalCopyContext,
  fs: LocalFs,
): Promise<void> {
  let out: LocalFile | undefined;
  try {
    out = await fs.open(tmp, 'wx', st.mode & 0o7777);
    let pos = 0;
    for await (const chunk of readChunks(inp, st.size, {
      budget: ctx.budget,
      ...(ctx.rate ? { chunkSize: ctx.rate.chunkSize } : {}),
    })) {
      if (ctx.rate) await ctx.rate.take(chunk.length);
      let done = 0;
      while (done < chunk.length)
        done += (await out.write(chunk, done, chunk.length - done, pos + done)).bytesWritten;
      pos += chunk.length;
    }
    await writeAttributes(out, st);
  } finally {
    await out?.close().catch(() => {});
  }
}

/** Recreates a symlink (never follows it), with its own mtime. `shownAs`: as in copyLocalFile. */
export async function copyLocalSymlink(
  src: string,
  dst: string,
  ctx: LocalCopyContext,
  shownAs = src,
): Promise<void> {
  const fs = ctx.fs ?? threadedFs;
  const [target, st] = await Promise.all([fs.readlink(src), fs.lstat(src)]);
  if (ctx.update) {
    const existing = await fs.readlink(dst).catch(() => undefined);
    if (existing === target) {
      ctx.tally.skipped++;
      return;
    }
  }
  const tmp = tempNameFor(dst);
  await fs.symlink(target, tmp);
  try {
    await fs.lutimes(tmp, st.atimeMs / 1000, st.mtimeMs / 1000);
    await fs.rename(tmp, dst);
  } catch (err) {
    await fs.unlink(tmp).catch(() => {});
    throw err;
  }
  ctx.tally.linked(shownAs, dst);
}

export async function makeDirectory(path: string, fs: LocalFs = threadedFs): Promise<void> {
  try {
    await fs.mkdir(path, 0o700);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const st = await fs.lstat(path);
    if (!st.isDirectory()) throw new IoItemError('exists and is not a directory', 'ENOTDIR');
  }
}

/**
 * Copies the tree at `srcRoot` to `dstRoot` (which is created; an existing directory is merged
 * into). Directory modes and mtimes are applied at the end, once nothing more is written in them.
 */
export async function copyLocalTree(srcRoot: string, dstRoot: string, ctx: LocalCopyContext): Promise<void> {
  const fs = ctx.fs ?? threadedFs;
  const dirs: { path: string; stats: NonNullable<ListedDirectory['stats']> }[] = [];
  const fail = (rel: string) => (err: unknown) =>
    ctx.tally.fail(rel === '' ? srcRoot : `${srcRoot}/${rel}`, err);
  // A failure of the writing side (the destination or its temp file) is reported under the
  // destination's name: the source is fine, blaming it would send the user to the wrong place.
  const failCopy = (rel: string, from: string, to: string) => (err: unknown) => {
    const at = (err as NodeJS.ErrnoException)?.path;
    if (typeof at === 'string' && at !== from) ctx.tally.fail(to, err);
    else fail(rel)(err);
  };
  walkLocalTree(
    srcRoot,
    ctx.pool,
    {
      directory: async (dir) => {
        if (ctx.filter && !ctx.filter.walks(dir.rel)) {
          dir.release();
          return false;
        }
        const dstDir = dir.rel === '' ? dstRoot : `${dstRoot}/${dir.rel}`;
        try {
          await makeDirectory(dstDir, fs);
        } catch (err) {
          dir.release();
          ctx.tally.fail(dstDir, err);
          return false;
        }
        if (dir.stats) dirs.push({ path: dstDir, stats: dir.stats });
        ctx.tally.directories++;
        ctx.tally.found(dir.entries.filter((e) => e.kind === 'file').length);
        const copies: DirEntryInfo[] = [];
        for (const e of dir.entries) {
          const rel = joinRel(dir.rel, e.name);
          if (e.kind !== 'dir') {
            const what = selectFile(ctx, rel);
            if (what === 'exclude') {
              if (e.kind === 'file') ctx.tally.found(-1);
              continue;
            }
            if (what === 'skip') {
              if (e.kind === 'file') ctx.tally.skipFile();
              else ctx.tally.skipped++;
              continue;
            }
          }
          if (e.kind === 'file' || e.kind === 'symlink') copies.push(e);
          else if (e.kind !== 'dir')
            fail(rel)(
              new IoItemError(
                `is a ${e.kind}: only files, directories and symlinks are copied`,
                'SPECIAL_FILE',
              ),
            );
        }
        // Files and links are read through the directory's open fd (never a path that may have
        // changed since the listing); it is let go once the last of them is done.
        const done = releaseAfter(dir, copies.length);
        for (const e of copies) {
          const rel = joinRel(dir.rel, e.name);
          const from = `${dir.at}/${e.name}`;
          const shown = `${dir.path}/${e.name}`;
          const to = `${dstRoot}/${rel}`;
          const copy = e.kind === 'file' ? copyLocalFile : copyLocalSymlink;
          ctx.pool.push(dir.rel, () =>
            copy(from, to, ctx, shown)
              .catch(failCopy(rel, from, to))
              .finally(done),
          );
        }
        return true;
      },
      failed: (rel, _path, err) => fail(rel)(err),
    },
    { statDirectories: true, fs, keepOpen: true },
  );
  await ctx.pool.idle();
  for (const d of dirs) {
    ctx.pool.push(d.path, async () => {
      try {
        await fs.chmod(d.path, d.stats.mode & 0o7777);
        await fs.utimes(d.path, d.stats.atimeMs / 1000, d.stats.mtimeMs / 1000);
      } catch (err) {
        ctx.tally.fail(d.path, err);
      }
    });
  }
  await ctx.pool.idle();
}
