// Two trees side by side, for `sluice check`, `sync` and `cp --dry-run/--checksum`: each side is
// listed into a map (relative path -> size, mtime, kind), filtered like the copy would be, and
// the maps are compared by the rule `cp -u` skips with (size and mtime), or by content (MD5:
// what S3 reports as the ETag of an object uploaded in one part) with `checksum`.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { ValidationError } from '../errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { DEFAULT_JOBS } from './constants.ts';
import { sameMtime } from './copy-local.ts';
import { describeError } from './failures.ts';
import { chooseLocalFs, type LocalFs, threadedFs } from './local-fs.ts';
import { asPrefix, formatLocation } from './location.ts';
import { PathFilter } from './path-filter.ts';
import { poolFor, type TaskPool } from './task-pool.ts';
import type { IoFailure, IoOptions, Location } from './types.ts';
import { joinRel, walkLocalTree } from './walk.ts';

export interface TreeEntry {
  kind: 'file' | 'symlink' | 'dir';
  size: number;
  mtimeMs?: number;
  /** S3: the object's ETag (quotes removed). */
  etag?: string;
  /** Symlinks: where they point. */
  target?: string;
  /** S3 directories: a `dir/` marker object exists (an implied directory has none). */
  marker?: boolean;
}

export interface TreeListing {
  /** False when the root does not exist (a missing directory, an empty prefix). */
  exists: boolean;
  /** The root is one file: its entry is under ''. */
  single: boolean;
  entries: Map<string, TreeEntry>;
  /** Directories or objects that could not be listed: a tree with these is incomplete. */
  failures: IoFailure[];
}

export interface ListContext {
  pool: TaskPool;
  fs: LocalFs;
  store?: ObjectStore;
  filter?: PathFilter;
  signal?: AbortSignal;
}

/** Lists a local directory or file, or an s3:// prefix or object. */
export async function listTree(loc: Location, ctx: ListContext): Promise<TreeListing> {
  return loc.kind === 'local' ? listLocal(loc.path, ctx) : listS3(loc.bucket, loc.key, ctx);
}

async function listLocal(root: string, ctx: ListContext): Promise<TreeListing> {
  const entries = new Map<string, TreeEntry>();
  const failures: IoFailure[] = [];
  const st = await ctx.fs.lstat(root).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return { exists: false, single: false, entries, failures };
  if (!st.isDirectory()) {
    entries.set('', { kind: 'file', size: st.size, mtimeMs: st.mtimeMs });
    return { exists: true, single: true, entries, failures };
  }
  const fail = (path: string) => (err: unknown) => failures.push({ path, ...describeError(err) });
  walkLocalTree(
    root,
    ctx.pool,
    {
      directory: (dir) => {
        if (ctx.filter && !ctx.filter.walks(dir.rel)) return false;
        if (dir.rel !== '') entries.set(dir.rel, { kind: 'dir', size: 0 });
        for (const e of dir.entries) {
          if (e.kind !== 'file' && e.kind !== 'symlink') continue;
          const rel = joinRel(dir.rel, e.name);
          if (ctx.filter && !ctx.filter.selects(rel)) continue;
          const path = `${dir.path}/${e.name}`;
          ctx.pool.push(dir.rel, async () => {
            try {
              const s = await ctx.fs.lstat(path);
              if (e.kind === 'symlink')
                entries.set(rel, { kind: 'symlink', size: 0, target: await ctx.fs.readlink(path) });
              else entries.set(rel, { kind: 'file', size: s.size, mtimeMs: s.mtimeMs });
            } catch (err) {
              fail(path)(err);
            }
          });
        }
        return true;
      },
      failed: (_rel, path, err) => fail(path)(err),
    },
    { fs: ctx.fs },
  );
  await ctx.pool.idle();
  return { exists: true, single: false, entries, failures };
}

async function listS3(bucket: string, key: string, ctx: ListContext): Promise<TreeListing> {
  const store = ctx.store;
  if (!store) throw new Error('s3:// locations need an object store (none configured)');
  const entries = new Map<string, TreeEntry>();
  const prefix = asPrefix(key);
  let listed = 0;
  const addDirs = (rel: string) => {
    for (let d = dirname(rel); d !== '.' && !entries.has(d); d = dirname(d))
      entries.set(d, { kind: 'dir', size: 0 });
  };
  for await (const page of store.list(bucket, prefix, ctx.signal)) {
    for (const o of page) {
      listed++;
      const rel = o.key.slice(prefix.length);
      if (rel === '') continue;
      if (rel.endsWith('/')) {
        const d = rel.slice(0, -1);
        if (ctx.filter && !ctx.filter.walks(d)) continue;
        entries.set(d, { kind: 'dir', size: 0, marker: true });
        addDirs(d);
        continue;
      }
      if (ctx.filter && !ctx.filter.selects(rel)) continue;
      entries.set(rel, {
        kind: 'file',
        size: o.size,
        ...(o.mtime ? { mtimeMs: o.mtime.getTime() } : {}),
        ...(o.etag ? { etag: o.etag.replace(/"/g, '') } : {}),
      });
      addDirs(rel);
    }
  }
  if (listed === 0 && key !== '' && !key.endsWith('/')) {
    const head = await store.head(bucket, key).catch((err: { status?: number }) => {
      if (err?.status === 404) return undefined;
      throw err;
    });
    if (head) {
      entries.set('', {
        kind: 'file',
        size: head.size,
        ...(head.mtime ? { mtimeMs: head.mtime.getTime() } : {}),
        ...(head.etag ? { etag: head.etag.replace(/"/g, '') } : {}),
      });
      return { exists: true, single: true, entries, failures: [] };
    }
  }
  return { exists: listed > 0, single: false, entries, failures: [] };
}

/**
 * Whether `dst` is up to date with `src` by the rule `cp -u` uses: the same size, and the same
 * mtime locally; an S3 copy counts when it was written no earlier than its source (S3 lists
 * LastModified in whole seconds).
 */
export function upToDate(
  src: TreeEntry,
  srcKind: Location['kind'],
  dst: TreeEntry,
  dstKind: Location['kind'],
): boolean {
  if (src.kind !== dst.kind) return false;
  if (src.kind === 'symlink') return src.target === dst.target;
  if (src.size !== dst.size || src.mtimeMs === undefined || dst.mtimeMs === undefined) return false;
  if (dstKind === 'local') return sameMtime(src.mtimeMs, dst.mtimeMs);
  const floor = srcKind === 'local' ? Math.floor(src.mtimeMs / 1000) * 1000 : src.mtimeMs;
  return dst.mtimeMs >= floor;
}

/** The MD5 of one file or object, hex: an S3 ETag when it is one, otherwise by reading the bytes. */
export async function contentMd5(
  loc: Location,
  entry: TreeEntry,
  rel: string,
  store?: ObjectStore,
): Promise<string> {
  if (loc.kind === 'local') {
    const path = rel === '' ? loc.path : `${loc.path}/${rel}`;
    const hash = createHash('md5');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }
  if (entry.etag && /^[0-9a-f]{32}$/i.test(entry.etag)) return entry.etag.toLowerCase();
  if (!store) throw new Error('s3:// locations need an object store (none configured)');
  const key = rel === '' ? loc.key : `${asPrefix(loc.key)}${rel}`;
  const { body } = await store.get(loc.bucket, key);
  const hash = createHash('md5');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface TreeDiff {
  /** Files (and symlinks) only in the source: what a copy would add. */
  missingOnDestination: string[];
  /** Only in the destination: what sync would delete. */
  missingOnSource: string[];
  /** In both, but different: what a copy would replace. */
  differ: string[];
  /** In both and the same. */
  same: string[];
  /** Directories only in the destination (deepest first), and whether each is an S3 marker. */
  extraDirectories: { rel: string; marker: boolean }[];
  /** Items that could not be listed or read: the comparison is incomplete. */
  errors: IoFailure[];
}

/** Compares the listings (files and symlinks; directories only to say which are extra). */
export async function compareTrees(
  src: { loc: Location; listing: TreeListing },
  dst: { loc: Location; listing: TreeListing },
  opts: { checksum?: boolean; pool: TaskPool; store?: ObjectStore },
): Promise<TreeDiff> {
  const diff: TreeDiff = {
    missingOnDestination: [],
    missingOnSource: [],
    differ: [],
    same: [],
    extraDirectories: [],
    errors: [...src.listing.failures, ...dst.listing.failures],
  };
  const s = src.listing.entries;
  const d = dst.listing.entries;
  for (const [rel, se] of s) {
    if (se.kind === 'dir') continue;
    const de = d.get(rel);
    // Symlinks are not copied to S3: one on a local source has nothing to compare with there.
    if (se.kind === 'symlink' && dst.loc.kind === 's3') continue;
    if (!de || de.kind === 'dir') diff.missingOnDestination.push(rel);
    else if (!opts.checksum || se.kind !== 'file' || de.kind !== 'file' || se.size !== de.size) {
      const equal = opts.checksum
        ? se.kind === de.kind && se.size === de.size && se.target === de.target
        : upToDate(se, src.loc.kind, de, dst.loc.kind);
      (equal ? diff.same : diff.differ).push(rel);
    } else
      opts.pool.push(rel, async () => {
        try {
          const [a, b] = await Promise.all([
            contentMd5(src.loc, se, rel, opts.store),
            contentMd5(dst.loc, de, rel, opts.store),
          ]);
          (a === b ? diff.same : diff.differ).push(rel);
        } catch (err) {
          diff.errors.push({ path: itemPath(src.loc, rel), ...describeError(err) });
        }
      });
  }
  await opts.pool.idle();
  for (const [rel, de] of d) {
    if (s.has(rel)) continue;
    if (de.kind === 'dir') diff.extraDirectories.push({ rel, marker: de.marker === true });
    else diff.missingOnSource.push(rel);
  }
  diff.extraDirectories.sort((a, b) => b.rel.split('/').length - a.rel.split('/').length);
  for (const list of [diff.missingOnDestination, diff.missingOnSource, diff.differ, diff.same]) list.sort();
  return diff;
}

/** The path or URL of `rel` under a location ('' is the location itself). */
export function itemPath(loc: Location, rel: string): string {
  if (rel === '') return formatLocation(loc);
  if (loc.kind === 'local') return `${loc.path}/${rel}`;
  return `s3://${loc.bucket}/${asPrefix(loc.key)}${rel}`;
}

/** Both sides listed (with the same filter) and compared, and the file system and pool used. */
export interface SideBySide {
  fs: LocalFs;
  pool: TaskPool;
  source: TreeListing;
  destination: TreeListing;
  diff: TreeDiff;
}

/**
 * Lists SRC and DST and compares them, as `sluice check` and `sync` do; a missing SRC is an error
 * (its message ends with `missingNote`).
 */
export async function listAndCompare(
  src: Location,
  dst: Location,
  opts: IoOptions & { include?: readonly string[]; exclude?: readonly string[]; checksum?: boolean },
  missingNote = '',
): Promise<SideBySide> {
  if ((src.kind === 's3' || dst.kind === 's3') && !opts.store)
    throw new ValidationError('s3:// locations need an object store (none configured)', 'store');
  const fs: LocalFs =
    src.kind === 's3' || dst.kind === 's3'
      ? threadedFs
      : chooseLocalFs(
          [src, dst].flatMap((l) => (l.kind === 'local' ? [l.path] : [])),
          opts.volume,
        );
  const pool = poolFor(fs, opts.jobs ?? DEFAULT_JOBS);
  const filter = new PathFilter({ include: opts.include ?? [], exclude: opts.exclude ?? [] });
  const list = {
    pool,
    fs,
    ...(opts.store ? { store: opts.store } : {}),
    ...(filter.empty ? {} : { filter }),
  };
  const source = await listTree(src, list);
  if (!source.exists)
    throw new ValidationError(`${formatLocation(src)}: no such file or directory${missingNote}`, 'src');
  const destination = await listTree(dst, list);
  const diff = await compareTrees(
    { loc: src, listing: source },
    { loc: dst, listing: destination },
    { pool, checksum: opts.checksum === true, ...(opts.store ? { store: opts.store } : {}) },
  );
  return { fs, pool, source, destination, diff };
}
