// `sluice check SRC DST`: compares two trees without copying anything — what only SRC has, what
// only DST has, and what differs (size and mtime, as `cp -u` decides; content with --checksum).
import { ValidationError } from '../errors.ts';
import { DEFAULT_JOBS } from './constants.ts';
import { chooseLocalFs, threadedFs } from './local-fs.ts';
import { formatLocation, parseLocation } from './location.ts';
import { PathFilter } from './path-filter.ts';
import { poolFor } from './task-pool.ts';
import { compareTrees, listTree } from './tree-compare.ts';
import type { IoFailure, IoOptions } from './types.ts';

export interface CheckOptions extends IoOptions {
  cwd?: string;
  include?: readonly string[];
  exclude?: readonly string[];
  /** Compare content (MD5) instead of size and mtime. */
  checksum?: boolean;
}

export interface CheckReport {
  operation: 'check';
  source: string;
  destination: string;
  /** How files were compared. */
  compare: 'size+mtime' | 'checksum';
  /** Files (and symlinks) in both and the same. */
  same: number;
  /** Paths relative to SRC/DST. */
  missingOnDestination: string[];
  missingOnSource: string[];
  differ: string[];
  /** Items that could not be listed or read: the comparison is incomplete. */
  errors: IoFailure[];
  /** True when the trees match (no difference, no error). */
  match: boolean;
  seconds: number;
}

export async function checkTrees(
  source: string,
  destination: string,
  opts: CheckOptions = {},
): Promise<CheckReport> {
  const t0 = performance.now();
  const cwd = opts.cwd ?? process.cwd();
  const src = parseLocation(source, cwd);
  const dst = parseLocation(destination, cwd);
  if ((src.kind === 's3' || dst.kind === 's3') && !opts.store)
    throw new ValidationError('s3:// locations need an object store (none configured)', 'store');
  const fs =
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
  const s = await listTree(src, list);
  if (!s.exists) throw new ValidationError(`${formatLocation(src)}: no such file or directory`, 'src');
  const d = await listTree(dst, list);
  const diff = await compareTrees(
    { loc: src, listing: s },
    { loc: dst, listing: d },
    { pool, checksum: opts.checksum === true, ...(opts.store ? { store: opts.store } : {}) },
  );
  return {
    operation: 'check',
    source: formatLocation(src),
    destination: formatLocation(dst),
    compare: opts.checksum ? 'checksum' : 'size+mtime',
    same: diff.same.length,
    missingOnDestination: diff.missingOnDestination,
    missingOnSource: diff.missingOnSource,
    differ: diff.differ,
    errors: diff.errors,
    match:
      diff.missingOnDestination.length +
        diff.missingOnSource.length +
        diff.differ.length +
        diff.errors.length ===
      0,
    seconds: Math.round(performance.now() - t0) / 1000,
  };
}
