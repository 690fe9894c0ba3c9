// `cp -r` semantics over local paths and s3:// (sluice cp, the `cp` algorithm): works out what each
// source becomes, refuses unsafe pairs, then runs every copy on one pool and one memory budget.
import { lstat, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { ValidationError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { DEFAULT_JOBS, DEFAULT_MAX_MEMORY, MAX_LIST_PAGE } from './constants.ts';
import { copyLocalFile, copyLocalSymlink, copyLocalTree, type LocalCopyContext } from './copy-local.ts';
import { type S3CopyContext, writesInline } from './copy-s3-context.ts';
import { copyObject, copyS3Tree } from './copy-s3-tree.ts';
import { downloadObject, downloadTree } from './download-tree.ts';
import { IoItemError, UnsafeTargetError } from './errors.ts';
import { type ActionLog, IoTally } from './failures.ts';
import { chooseLocalFs, threadedFs } from './local-fs.ts';
import { asPrefix, formatLocation, locationBasename, parseLocation } from './location.ts';
import { MemoryBudget } from './memory-budget.ts';
import { PathFilter } from './path-filter.ts';
import { RateLimiter } from './rate-limit.ts';
import { poolFor } from './task-pool.ts';
import { compareTrees, itemPath, listTree } from './tree-compare.ts';
import type { IoOptions, IoSummary, Location, PlannedAction } from './types.ts';
import { uploadFile, uploadTree } from './upload-tree.ts';
import { startListing } from './walk.ts';

export interface CopyOptions extends IoOptions {
  /** Skip files whose size and mtime already match at the destination. */
  update?: boolean;
  /** Treat DST as the copy itself even if it is an existing directory (`cp -T`). */
  noTargetDirectory?: boolean;
  /** Create missing parent directories of a local destination (`mkdir -p`); the `cp` algorithm does. */
  createParents?: boolean;
  /** Resolve relative local paths against this directory. */
  cwd?: string;
  /** --include/--exclude globs (rclone rules, relative to each source: path-filter.ts). */
  include?: readonly string[];
  exclude?: readonly string[];
  /** Skip files whose content already matches (MD5), whatever their mtimes; implies `update`. */
  checksum?: boolean;
  /** List what would be copied (the summary's `actions`); change nothing. */
  dryRun?: boolean;
  /** Bytes per second moved at most (--bwlimit); server-side S3 copies move none. */
  bwlimit?: number;
  /** One line per action as it happens (--log-file). */
  log?: ActionLog;
  /** Files (relative to the source) already known to be identical: skipped (sync's plan). */
  unchanged?: ReadonlySet<string>;
}

/** Where a source lands: `DST/basename(SRC)` when DST is a directory, else DST itself. */
export async function resolveTarget(
  src: Location,
  dst: Location,
  dstIsDirectory: boolean,
): Promise<Location> {
  if (!dstIsDirectory) return dst;
  const name = locationBasename(src);
  if (dst.kind === 'local') return { kind: 'local', path: `${dst.path.replace(/\/+$/, '')}/${name}` };
  return { kind: 's3', bucket: dst.bucket, key: `${asPrefix(dst.key)}${name}` };
}

async function isLocalDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

/** Resolves symlinks in the longest existing ancestor of `path` (it may not exist yet). */
export async function realpathLoose(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return `${(await realpathLoose(parent)).replace(/\/$/, '')}/${path.slice(parent.length + 1)}`;
  }
}

export async function assertNotInside(src: string, target: string): Promise<void> {
  const [s, t] = await Promise.all([realpath(src), realpathLoose(target)]);
  if (t === s || t.startsWith(s.endsWith(sep) ? s : s + sep)) {
    throw new UnsafeTargetError(`cannot copy ${src} into itself (${target} is inside it)`);
  }
}

function needStore(store: ObjectStore | undefined): ObjectStore {
  if (!store) throw new ValidationError('s3:// locations need an object store (none configured)', 'store');
  return store;
}

/** Copies each source to the destination with `cp -r` semantics; never throws for one bad item. */
export async function copyTree(
  sources: string[],
  destination: string,
  opts: CopyOptions = {},
): Promise<IoSummary> {
  if (sources.length === 0) throw new ValidationError('cp needs at least one source', 'src');
  const cwd = opts.cwd ?? process.cwd();
  const dst = parseLocation(destination, cwd);
  const srcs = sources.map((s) => parseLocation(s, cwd));
  if (opts.noTargetDirectory && srcs.length > 1)
    throw new ValidationError('--no-target-directory takes exactly one source', 'dst');
  const needsS3 = dst.kind === 's3' || srcs.some((s) => s.kind === 's3');
  const store = needsS3 ? needStore(opts.store) : undefined;

  const dstIsDirectory = opts.noTargetDirectory
    ? false
    : dst.kind === 'local'
      ? await isLocalDirectory(dst.path)
      : dst.key === '' || dst.key.endsWith('/');
  if (srcs.length > 1 && !dstIsDirectory) {
    throw new ValidationError(
      `target ${destination} is not a directory (with several sources it must be an existing directory, or an s3:// prefix ending in /)`,
      'dst',
    );
  }

  const tally = new IoTally('cp', opts.progress);
  if (opts.log) tally.log = opts.log;
  const filter = new PathFilter({ include: opts.include ?? [], exclude: opts.exclude ?? [] });
  // Local to local: file calls made directly or on threads by the file systems' type (local-fs.ts).
  const fs = needsS3
    ? threadedFs
    : chooseLocalFs(
        [...srcs, dst].flatMap((l) => (l.kind === 'local' ? [l.path] : [])),
        opts.volume,
      );
  const ctx: S3CopyContext = {
    pool: poolFor(fs, opts.jobs ?? DEFAULT_JOBS),
    fs,
    budget: new MemoryBudget(opts.maxMemory ?? DEFAULT_MAX_MEMORY),
    tally,
    update: (opts.update ?? false) && !opts.checksum,
    ...(filter.empty ? {} : { filter }),
    ...(opts.unchanged ? { unchanged: opts.unchanged } : {}),
    ...(opts.bwlimit ? { rate: new RateLimiter(opts.bwlimit) } : {}),
    // Only read on s3:// paths, which needStore() above guaranteed a store for.
    store: store as ObjectStore,
    notes: [],
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.volume ? { volume: opts.volume } : {}),
  };
  const actions: PlannedAction[] = [];
  // Sources run one after another, each with the whole pool; a failing source does not stop the rest.
  for (const src of srcs) {
    let target: Location | undefined;
    try {
      target = await resolveTarget(src, dst, dstIsDirectory);
      if (opts.dryRun || opts.checksum) {
        // Both sides listed and compared first: a dry run reports the copies, --checksum skips
        // what has the same content.
        const plan = await planCopy(src, target, ctx, opts);
        if (opts.dryRun) {
          actions.push(...plan.actions);
          continue;
        }
        ctx.unchanged = plan.same;
      }
      if (target.kind === 'local') await ensureParent(target.path, opts.createParents === true);
      await copyOne(src, target, ctx);
    } catch (err) {
      // Blame the side the error is about: a system error names the path it failed on.
      const at = (err as NodeJS.ErrnoException)?.path;
      const aboutSource = src.kind !== 'local' || typeof at !== 'string' || at === src.path;
      tally.fail(formatLocation(aboutSource ? src : (target ?? dst)), err);
    }
  }
  const summary = tally.summary(formatLocation(dst));
  if (opts.dryRun) {
    summary.dryRun = true;
    summary.actions = actions;
    summary.files = actions.length;
    summary.bytes = actions.reduce((n, a) => n + (a.action === 'copy' ? a.bytes : 0), 0);
  }
  return ctx.notes.length ? { ...summary, notes: ctx.notes } : summary;
}

/**
 * What copying `src` to `target` would do, from listings of both sides: the files to copy (all
 * of them, or with --update/--checksum those missing or different), and the set already the same.
 */
async function planCopy(
  src: Location,
  target: Location,
  ctx: S3CopyContext,
  opts: CopyOptions,
): Promise<{ actions: PlannedAction[]; same: Set<string> }> {
  const list = {
    pool: ctx.pool,
    fs: ctx.fs ?? threadedFs,
    store: ctx.store,
    ...(ctx.filter ? { filter: ctx.filter } : {}),
  };
  const s = await listTree(src, list);
  if (!s.exists)
    throw Object.assign(new IoItemError('no such file or directory', 'ENOENT'), {
      path: formatLocation(src),
    });
  const t = await listTree(target, list);
  const diff = await compareTrees(
    { loc: src, listing: s },
    { loc: target, listing: t },
    { pool: ctx.pool, store: ctx.store, checksum: opts.checksum === true },
  );
  const copies = [...diff.missingOnDestination, ...diff.differ];
  if (!opts.update && !opts.checksum) copies.push(...diff.same);
  for (const e of diff.errors) ctx.tally.fail(e.path, new IoItemError(e.message, e.code));
  return {
    actions: copies.sort().map((rel) => ({
      action: 'copy' as const,
      from: itemPath(src, rel),
      to: itemPath(target, rel),
      bytes: s.entries.get(rel)?.size ?? 0,
    })),
    same: new Set(opts.update || opts.checksum ? diff.same : []),
  };
}

/** The destination's parent must exist (as with `cp -r`), unless asked to create it. */
async function ensureParent(path: string, create: boolean): Promise<void> {
  const parent = dirname(path);
  if (create) {
    await mkdir(parent, { recursive: true });
    return;
  }
  try {
    await stat(parent);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw Object.assign(
        new IoItemError(`cannot create ${path}: directory ${parent} does not exist`, 'ENOENT'),
        { path },
      );
    }
    throw err;
  }
}

async function copyOne(src: Location, target: Location, ctx: S3CopyContext): Promise<void> {
  // A single file --checksum found identical (its entry in the plan is '').
  if (ctx.unchanged?.has('')) {
    ctx.tally.skipFile();
    return;
  }
  if (src.kind === 'local') {
    const st = await lstat(src.path);
    if (target.kind === 'local') {
      const local: LocalCopyContext = ctx;
      if (st.isDirectory()) {
        await assertNotInside(src.path, target.path);
        await copyLocalTree(src.path, target.path, local);
      } else if (st.isSymbolicLink()) await copyLocalSymlink(src.path, target.path, local);
      else if (st.isFile()) await copyLocalFile(src.path, target.path, local);
      else throw new IoItemError('not a regular file, directory or symlink', 'SPECIAL_FILE');
      return;
    }
    if (st.isDirectory()) await uploadTree(src.path, target.bucket, asPrefix(target.key), ctx);
    else if (st.isFile()) await uploadFile(src.path, target.bucket, target.key, ctx);
    else throw new IoItemError('only regular files and directories can be copied to S3', 'SPECIAL_FILE');
    return;
  }
  // An s3:// source is one object if the key names one, otherwise a prefix ("directory"). The HEAD
  // and the first page of the prefix's listing travel together (one round trip, not two); that
  // page is kept short (enough to fill the pool), so the copies start after a short answer.
  const prefix = asPrefix(src.key);
  const pages = startListing(
    ctx.store.list(src.bucket, prefix, ctx.signal, {
      firstPageSize: Math.min(ctx.pool.concurrency, MAX_LIST_PAGE),
    }),
  );
  const single =
    src.key !== '' && !src.key.endsWith('/')
      ? await ctx.store.head(src.bucket, src.key).catch((err: { status?: number }) => {
          if (err?.status === 404) return undefined;
          throw err;
        })
      : undefined;
  if (target.kind === 'local') {
    if (single) {
      const dstPath = (await isLocalDirectory(target.path))
        ? `${target.path}/${locationBasename(src)}`
        : target.path;
      await downloadObject(src.bucket, single, dstPath, ctx, writesInline(dirname(dstPath), ctx));
    } else await downloadTree(src.bucket, prefix, target.path, ctx, pages);
    return;
  }
  if (single) await copyObject(src.bucket, single, target.bucket, target.key, ctx);
  else
    await copyS3Tree(
      { bucket: src.bucket, prefix },
      { bucket: target.bucket, prefix: asPrefix(target.key) },
      ctx,
      pages,
    );
}
