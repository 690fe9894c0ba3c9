// `sluice sync SRC DST`: makes DST equal to SRC. Both sides are listed and compared (size and
// mtime, or content with --checksum), what is missing or different is copied by cp's code, then
// what DST has and SRC has not is deleted — only after every copy succeeded and both listings
// were complete, so a failure never turns into a deletion. Excluded files are neither copied nor
// deleted (as rclone does without --delete-excluded).
import { sep } from 'node:path';
import { DELETE_BATCH } from './constants.ts';
import { type CopyOptions, copyTree, realpathLoose } from './cp.ts';
import { IoItemError, UnsafeTargetError } from './errors.ts';
import { IoTally } from './failures.ts';
import type { LocalFs } from './local-fs.ts';
import { asPrefix, formatLocation, parseLocation } from './location.ts';
import type { TaskPool } from './task-pool.ts';
import { itemPath, listAndCompare, type TreeDiff } from './tree-compare.ts';
import type { IoSummary, Location, PlannedAction } from './types.ts';

export type SyncOptions = Omit<CopyOptions, 'noTargetDirectory' | 'createParents' | 'unchanged'>;

/** Refuses a pair where one side holds the other: syncing would copy into, or delete from, itself. */
export async function assertSeparate(src: Location, dst: Location): Promise<void> {
  let a: string;
  let b: string;
  if (src.kind === 'local' && dst.kind === 'local') {
    [a, b] = await Promise.all([realpathLoose(src.path), realpathLoose(dst.path)]);
    a = a.endsWith(sep) ? a : a + sep;
    b = b.endsWith(sep) ? b : b + sep;
  } else if (src.kind === 's3' && dst.kind === 's3' && src.bucket === dst.bucket) {
    a = asPrefix(src.key);
    b = asPrefix(dst.key);
  } else return;
  if (a.startsWith(b) || b.startsWith(a)) {
    const why =
      a === b
        ? 'they are the same'
        : a.startsWith(b)
          ? 'the source is inside the destination'
          : 'the destination is inside the source';
    throw new UnsafeTargetError(`cannot sync ${formatLocation(src)} to ${formatLocation(dst)}: ${why}`);
  }
}

export async function syncTree(
  source: string,
  destination: string,
  opts: SyncOptions = {},
): Promise<IoSummary> {
  const cwd = opts.cwd ?? process.cwd();
  const src = parseLocation(source, cwd);
  const dst = parseLocation(destination, cwd);
  await assertSeparate(src, dst);
  const {
    fs,
    pool,
    source: s,
    diff,
  } = await listAndCompare(
    src,
    dst,
    opts,
    // A missing source would make an empty tree of the destination: refuse instead.
    ' (nothing synced)',
  );
  const deletions = s.single ? [] : [...diff.missingOnSource, ...diff.extraDirectories.map((x) => x.rel)];

  if (opts.dryRun) {
    const actions: PlannedAction[] = [...diff.missingOnDestination, ...diff.differ].sort().map((rel) => ({
      action: 'copy',
      from: itemPath(src, rel),
      to: itemPath(dst, rel),
      bytes: s.entries.get(rel)?.size ?? 0,
    }));
    for (const rel of deletions) actions.push({ action: 'delete', path: itemPath(dst, rel) });
    const tally = new IoTally('sync', opts.progress);
    for (const e of diff.errors) tally.fail(e.path, new IoItemError(e.message, e.code));
    return {
      ...tally.summary(formatLocation(dst)),
      files: actions.filter((a) => a.action === 'copy').length,
      bytes: actions.reduce((n, a) => n + (a.action === 'copy' ? a.bytes : 0), 0),
      deleted: deletions.length,
      dryRun: true,
      actions,
    };
  }

  const copied = await copyTree([source], destination, {
    ...opts,
    checksum: false,
    update: false,
    unchanged: new Set(diff.same),
    noTargetDirectory: true,
    createParents: true,
  });
  const summary: IoSummary = { ...copied, operation: 'sync', deleted: 0 };
  const failures = copied.failures.length + diff.errors.length;
  if (diff.errors.length) summary.failures = [...diff.errors, ...copied.failures];
  if (failures > 0) {
    if (deletions.length)
      summary.notes = [
        ...(summary.notes ?? []),
        `not deleting ${deletions.length} item(s) from ${formatLocation(dst)}: ${failures} item(s) failed`,
      ];
    return summary;
  }
  const tally = new IoTally('sync', opts.progress);
  if (opts.log) tally.log = opts.log;
  summary.deleted = await deleteExtras(dst, diff, pool, fs, tally, opts);
  summary.failures.push(...tally.failures);
  return summary;
}

/** Deletes the destination's extra files, then its extra directories, deepest first. */
async function deleteExtras(
  dst: Location,
  diff: TreeDiff,
  pool: TaskPool,
  fs: LocalFs,
  tally: IoTally,
  opts: SyncOptions,
): Promise<number> {
  let deleted = 0;
  const done = (path: string) => {
    deleted++;
    tally.log?.(`delete ${path}`);
  };
  if (dst.kind === 'local') {
    for (const rel of diff.missingOnSource) {
      const path = itemPath(dst, rel);
      pool.push(rel, () =>
        fs.unlink(path).then(
          () => done(path),
          (err) => tally.fail(path, err),
        ),
      );
    }
    await pool.idle();
    for (const { rel } of diff.extraDirectories) {
      const path = itemPath(dst, rel);
      // A directory that still holds excluded files stays.
      await fs.rmdir(path).then(
        () => done(path),
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') tally.fail(path, err);
        },
      );
    }
    return deleted;
  }
  const store = opts.store;
  if (!store) return 0;
  const prefix = asPrefix(dst.key);
  const keys = [
    ...diff.missingOnSource.map((rel) => `${prefix}${rel}`),
    ...diff.extraDirectories.filter((x) => x.marker).map((x) => `${prefix}${x.rel}/`),
  ];
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const failed = new Map((await store.deleteMany(dst.bucket, batch)).map((f) => [f.key, f.message]));
    for (const key of batch) {
      const url = `s3://${dst.bucket}/${key}`;
      const why = failed.get(key);
      if (why !== undefined) tally.fail(url, new IoItemError(why, 'DELETE_FAILED'));
      else done(url);
    }
  }
  return deleted;
}
