// `sluice rm -r` and the `rm` algorithm: files are unlinked concurrently, spread round-robin over
// directories (the kernel locks a directory for each unlink in it), and each directory is removed
// as soon as everything in it is gone, so the tree goes bottom-up without a second pass.
// Symlinks are unlinked, never followed; nothing outside the targets is touched. On a local disk a
// tree goes to a small compiled helper instead (native/rm-tree.ts: the same rules, at rm -rf's
// speed), the walker below being the fallback without a C compiler. An s3:// target
// deletes the object and everything under "prefix/" with DeleteObjects batches of 1000.
import { basename, resolve } from 'node:path';
import { ValidationError } from '../errors.ts';
import type { ObjectInfo } from '../ports/object-store.ts';
import { DEFAULT_JOBS, DELETE_BATCH } from './constants.ts';
import { IoItemError, UnsafeTargetError } from './errors.ts';
import { IoTally } from './failures.ts';
import { chooseLocalFs, type LocalFs } from './local-fs.ts';
import { asPrefix, parseLocation } from './location.ts';
import { removeTreesNative, rmTreeHelper } from './native/rm-tree.ts';
import { poolFor, TaskPool } from './task-pool.ts';
import type { IoOptions, IoSummary } from './types.ts';
import { joinRel, startListing, walkLocalTree, walkS3Prefix } from './walk.ts';

export interface RemoveOptions extends IoOptions {
  /** Nonexistent targets are not an error (`rm -f`). */
  force?: boolean;
  /** Remove directories (`-r`); without it a directory target is an error. */
  recursive?: boolean;
  /**
   * On a local disk, remove trees with the compiled helper (native/rm-tree.ts) when a C compiler
   * is there to build it (default true); false: always the JS walker.
   */
  native?: boolean;
  cwd?: string;
}

/** Refuses targets whose removal is never what was meant: /, ., .. and a whole bucket. */
export function assertRemovable(arg: string, cwd: string): void {
  const loc = parseLocation(arg, cwd);
  if (loc.kind === 's3') {
    if (loc.key === '' || /^\/*$/.test(loc.key))
      throw new UnsafeTargetError(
        `refusing to remove a whole bucket (${arg}): give a prefix, e.g. s3://${loc.bucket}/data/`,
      );
    return;
  }
  const last = basename(arg.replace(/\/+$/, '') || '/');
  if (resolve(cwd, arg) === '/')
    throw new UnsafeTargetError(`refusing to remove "${arg}" (the root directory)`);
  if (last === '.' || last === '..')
    throw new UnsafeTargetError(`refusing to remove "${arg}" ("." and ".." are never removed)`);
}

interface DirState {
  /** For messages. */
  path: string;
  /** Where to act on it: `${parent.at}/${name}` (race-free; see walkLocalTree), the root's path. */
  self: string;
  /** Where to act on its entries, once listed (its open fd), and how to let that go. */
  at?: string;
  release?: () => void;
  parent: DirState | undefined;
  /** Children not yet removed, plus 1 while the directory is not yet listed. */
  pending: number;
  failed: boolean;
}

async function removeLocalTree(root: string, pool: TaskPool, tally: IoTally, fs: LocalFs): Promise<void> {
  const states = new Map<string, DirState>();
  const childDone = (dir: DirState | undefined, ok: boolean): void => {
    if (!dir) return;
    if (!ok) dir.failed = true;
    if (--dir.pending > 0) return;
    // A directory with a failed child cannot be empty: leave it (the child's failure is reported).
    if (dir.failed) {
      dir.release?.();
      childDone(dir.parent, false);
      return;
    }
    dir.release?.(); // its entries are gone: close its fd before removing it
    pool.push(dir.parent?.path ?? '', async () => {
      try {
        await fs.rmdir(dir.self);
        tally.directories++;
        childDone(dir.parent, true);
      } catch (err) {
        tally.fail(dir.path, err);
        childDone(dir.parent, false);
      }
    });
  };
  states.set('', { path: root, self: root, parent: undefined, pending: 1, failed: false });
  walkLocalTree(
    root,
    pool,
    {
      directory: (dir) => {
        const state = states.get(dir.rel)!;
        states.delete(dir.rel);
        state.at = dir.at;
        state.release = dir.release;
        state.pending += dir.entries.length;
        tally.found(dir.entries.filter((e) => e.kind !== 'dir').length);
        for (const e of dir.entries) {
          const path = `${dir.path}/${e.name}`;
          // Through the directory's open fd: never through a path that may have changed since.
          const target = `${dir.at}/${e.name}`;
          if (e.kind === 'dir') {
            const child = { path, self: target, parent: state, pending: 1, failed: false };
            states.set(joinRel(dir.rel, e.name), child);
            continue;
          }
          pool.push(dir.rel, async () => {
            try {
              // On a network volume, look the name up first: the lookup runs under the directory's
              // shared lock, in parallel with other lookups; unlink() would otherwise do it under
              // the exclusive lock, doubling the time each unlink blocks the directory.
              if (fs.mode === 'threaded') await fs.lstat(target).catch(() => {});
              await fs.unlink(target);
              if (e.kind === 'symlink') tally.symlinks++;
              else tally.fileDone(0);
              childDone(state, true);
            } catch (err) {
              tally.fail(path, err);
              childDone(state, false);
            }
          });
        }
        childDone(state, true); // listed
        return true;
      },
      failed: (rel, path, err) => {
        tally.fail(path, err);
        const state = states.get(rel)!;
        states.delete(rel);
        childDone(state, false);
      },
    },
    { fs, keepOpen: true },
  );
  await pool.idle();
}

async function removeS3(
  bucket: string,
  key: string,
  opts: RemoveOptions,
  pool: TaskPool,
  tally: IoTally,
): Promise<void> {
  const store = opts.store;
  if (!store) throw new ValidationError('s3:// targets need an object store (none configured)', 'store');
  let batch: ObjectInfo[] = [];
  let found = 0;
  const flush = () => {
    const objs = batch;
    batch = [];
    pool.push('', async () => {
      try {
        const failures = await store.deleteMany(
          bucket,
          objs.map((o) => o.key),
        );
        const failed = new Set(failures.map((f) => f.key));
        for (const f of failures)
          tally.fail(`s3://${bucket}/${f.key}`, new IoItemError(f.message, 'DELETE_FAILED'));
        for (const o of objs) if (!failed.has(o.key)) tally.fileDone(o.size);
      } catch (err) {
        for (const o of objs) tally.fail(`s3://${bucket}/${o.key}`, err);
      }
    });
  };
  const take = (page: ObjectInfo[]) => {
    for (const o of page) {
      found++;
      batch.push(o);
      if (batch.length === DELETE_BATCH) flush();
    }
  };
  // "prefix" means the object "prefix" (if any) and everything under "prefix/", never "prefixes".
  // The HEAD and the first listing page travel together.
  const pages = startListing(store.list(bucket, asPrefix(key), opts.signal));
  if (!key.endsWith('/')) {
    const self = await store.head(bucket, key).catch((err: { status?: number }) => {
      if (err?.status === 404) return undefined;
      throw err;
    });
    if (self) take([self]);
  }
  await walkS3Prefix(pages, pool, take);
  if (batch.length) flush();
  await pool.idle();
  if (found === 0 && !opts.force)
    tally.fail(`s3://${bucket}/${key}`, new IoItemError('no such object or prefix', 'NOT_FOUND'));
}

/** Removes each target; failures are reported per item and the rest is still removed. */
export async function removeTree(targets: string[], opts: RemoveOptions = {}): Promise<IoSummary> {
  if (targets.length === 0) throw new ValidationError('rm needs at least one target', 'targets');
  const cwd = opts.cwd ?? process.cwd();
  for (const t of targets) assertRemovable(t, cwd);
  const tally = new IoTally('rm', opts.progress);
  const locs = targets.map((t) => parseLocation(t, cwd));
  const fs = chooseLocalFs(
    locs.flatMap((l) => (l.kind === 'local' ? [l.path] : [])),
    opts.volume,
  );
  const pool = poolFor(fs, opts.jobs ?? DEFAULT_JOBS);
  // S3 deletes are network requests whatever the local file systems are.
  const s3Pool = new TaskPool(opts.jobs ?? DEFAULT_JOBS);
  for (const [i, t] of targets.entries()) {
    const loc = locs[i]!;
    try {
      if (loc.kind === 's3') {
        await removeS3(loc.bucket, loc.key, opts, s3Pool, tally);
        continue;
      }
      const st = await fs.lstat(loc.path).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' && opts.force) return undefined;
        throw err;
      });
      if (!st) continue;
      if (st.isDirectory()) {
        if (!opts.recursive) throw new IoItemError('is a directory (use -r)', 'EISDIR');
        // A network volume needs many calls in flight (the JS walker); a local disk one call after
        // another at C speed. Should the helper die, the walker removes what it left.
        const helper = fs.mode === 'direct' && opts.native !== false ? await rmTreeHelper() : undefined;
        if (helper) {
          const done = await removeTreesNative(helper, [loc.path], tally, opts.signal).then(
            () => true,
            () => false,
          );
          if (done) continue;
        }
        await removeLocalTree(loc.path, pool, tally, fs);
      } else {
        await fs.unlink(loc.path);
        if (st.isSymbolicLink()) tally.symlinks++;
        else tally.fileDone(0);
      }
    } catch (err) {
      tally.fail(loc.kind === 'local' ? loc.path : t, err);
    }
  }
  return tally.summary();
}
