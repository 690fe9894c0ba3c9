import { formatLocation, parseLocation } from './location.ts';
import { listAndCompare } from './tree-compare.ts';
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
  const { diff } = await listAndCompare(src, dst, opts);
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
