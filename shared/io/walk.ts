// The concurrent tree walker shared by cp, zip and rm. Local trees: every directory is listed as
// its own task in the TaskPool, so sibling directories are listed at once, and the entry types
// come from the listing (dirent types) — no lstat per entry. S3 prefixes: listed page by page,
// each page handed over as soon as it arrives, pausing while too much work is queued.
// Every local directory is opened without following symlinks, relative to its parent's open fd,
// and what cp, zip and rm do to its entries goes through that fd (`dir.at`), never through a path
// that may have changed since: a directory swapped for a symlink cannot send them outside the tree.
import type { Dirent } from 'node:fs';
import type { ObjectInfo } from '../ports/object-store.ts';
import { IoItemError } from './errors.ts';
import { type LocalFile, type LocalFs, PROC_FD, READ_NOFOLLOW, threadedFs } from './local-fs.ts';
import type { TaskPool } from './task-pool.ts';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char-device' | 'block-device';

export interface DirEntryInfo {
  name: string;
  kind: EntryKind;
}

export interface ListedDirectory {
  /** Path relative to the walk's root, '/'-separated; '' for the root itself. */
  rel: string;
  /** Absolute (or as-given) path of the directory: for messages. */
  path: string;
  /**
   * Where to act on its entries (`${at}/${name}`): `/proc/self/fd/N` of the directory this walk
   * opened (without following symlinks) on Linux, so a directory swapped for a symlink mid-walk
   * never redirects an operation outside the tree; `path` elsewhere. Valid until `release()`.
   */
  at: string;
  /** With `keepOpen`: the caller is done with `at` (rm: the directory is removed). */
  release(): void;
  entries: DirEntryInfo[];
  /**
   * The directory's own attributes, when the walk was asked for them (cp keeps modes/mtimes; dev
   * and ino tell it from whatever its path leads to later: `ListedDirectories`).
   */
  stats?: DirectoryStats;
}

export interface DirectoryStats {
  mode: number;
  atimeMs: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

export interface LocalWalkHandlers {
  /**
   * A directory was listed (the root first, parents before children). Its subdirectories are
   * listed after the returned promise settles, so a handler can create the destination first.
   * Return false to skip descending into the subdirectories.
   */
  directory(dir: ListedDirectory): Promise<boolean | undefined> | boolean | undefined;
  /** Listing (or stat-ing) a directory failed; the rest of the walk goes on. */
  failed(rel: string, path: string, err: unknown): void;
}

export function entryKind(d: Dirent): EntryKind {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isSocket()) return 'socket';
  if (d.isCharacterDevice()) return 'char-device';
  return 'block-device';
}

/** Joins '/'-separated relative paths, either of which may be '' (the root). */
export function joinRel(rel: string, name: string): string {
  if (rel === '') return name;
  return name === '' ? rel : `${rel}/${name}`;
}

/**
 * Schedules the walk of a local directory tree on `pool`; await `pool.idle()` for the end.
 * Every directory is opened with O_DIRECTORY|O_NOFOLLOW relative to its parent's open fd (through
 * /proc/self/fd), listed through that fd, and its entries are reached through it (`dir.at`): a
 * directory swapped for a symlink while the walk runs is refused (ELOOP/ENOTDIR, reported as a
 * failure), never followed. An fd stays open while its subdirectories are being opened and, with
 * `keepOpen`, until the caller's `release()`.
 */
export function walkLocalTree(
  root: string,
  pool: TaskPool,
  handlers: LocalWalkHandlers,
  opts: { statDirectories?: boolean; fs?: LocalFs; keepOpen?: boolean } = {},
): void {
  const fs = opts.fs ?? threadedFs;
  /** One open directory: closed when the walk and the caller no longer need it. */
  const holder = (fd: number | undefined) => {
    let refs = 1;
    return {
      hold: () => {
        refs++;
      },
      drop: () => {
        if (--refs === 0 && fd !== undefined) void fs.closeFd(fd).catch(() => {});
      },
    };
  };
  const list = (rel: string, path: string, openAt: string, parent?: ReturnType<typeof holder>) =>
    pool.pushListing(async () => {
      let dir: ListedDirectory;
      let own: ReturnType<typeof holder>;
      try {
        let fd: number | undefined;
        try {
          fd = PROC_FD ? await fs.openDirectory(openAt, parent === undefined) : undefined;
        } finally {
          parent?.drop();
        }
        own = holder(fd);
        const at = fd === undefined ? path : `/proc/self/fd/${fd}`;
        let released = false;
        try {
          const [dirents, st] = await Promise.all([
            fs.readdir(at),
            opts.statDirectories ? fs.stat(at) : undefined,
          ]);
          if (opts.keepOpen) own.hold(); // the caller's: dropped by release()
          dir = {
            rel,
            path,
            at,
            release: () => {
              if (released || !opts.keepOpen) return;
              released = true;
              own.drop();
            },
            entries: dirents.map((d) => ({ name: d.name, kind: entryKind(d) })),
            ...(st
              ? {
                  stats: {
                    mode: st.mode,
                    atimeMs: st.atimeMs,
                    mtimeMs: st.mtimeMs,
                    dev: st.dev,
                    ino: st.ino,
                  },
                }
              : {}),
          };
        } catch (err) {
          own.drop();
          throw err;
        }
      } catch (err) {
        handlers.failed(rel, path, err);
        return;
      }
      const o = own;
      try {
        const descend = await handlers.directory(dir);
        if (descend === false) return;
        for (const e of dir.entries) {
          if (e.kind !== 'dir') continue;
          o.hold(); // dropped once the child is open
          list(joinRel(rel, e.name), `${path}/${e.name}`, `${dir.at}/${e.name}`, o);
        }
      } finally {
        o.drop(); // the walk's own (a caller may release before the subdirectories are open)
      }
    });
  list('', root, root);
}

/**
 * Opens a file the walk listed (`${dir.at}/${name}`) for reading, never through a symlink: a file
 * swapped for one since the listing is refused, not followed. The caller checks it is a file.
 */
export async function openListedFile(fs: LocalFs, at: string): Promise<LocalFile> {
  try {
    return await fs.open(at, READ_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP')
      throw new IoItemError('replaced by a symlink while being read (not followed)', 'FILE_CHANGED');
    throw err;
  }
}

/**
 * With `keepOpen`: a callback to call once per entry acted on through `dir.at`; the directory is
 * released after the `n`th call (at once when `n` is 0).
 */
export function releaseAfter(dir: ListedDirectory, n: number): () => void {
  let left = n;
  if (left === 0) dir.release();
  return () => {
    if (--left === 0) dir.release();
  };
}

/**
 * Directories listed by a walk that has let them go, opened again for reading their entries
 * (zip --sort reads after the whole walk, when holding every directory open could exhaust the
 * fds). A path now leading to another directory (a symlink swapped in, a directory moved in) is
 * refused by device and inode. Open directories are shared and closed when no reader holds them.
 */
export class ListedDirectories {
  private readonly held = new Map<string, { fd: Promise<number>; refs: number }>();

  constructor(private readonly fs: LocalFs) {}

  /** Where to act on the entries of the directory at `path` that the walk saw as `stats`. */
  async acquire(path: string, stats: DirectoryStats | undefined): Promise<{ at: string; release(): void }> {
    if (!PROC_FD || stats === undefined) return { at: path, release: () => {} };
    let h = this.held.get(path);
    if (!h) {
      h = { fd: this.open(path, stats), refs: 0 };
      this.held.set(path, h);
    }
    h.refs++;
    const entry = h;
    let fd: number;
    try {
      fd = await entry.fd;
    } catch (err) {
      entry.refs--;
      if (this.held.get(path) === entry) this.held.delete(path);
      throw err;
    }
    let released = false;
    return {
      at: `/proc/self/fd/${fd}`,
      release: () => {
        if (released) return;
        released = true;
        if (--entry.refs > 0) return;
        if (this.held.get(path) === entry) this.held.delete(path);
        void this.fs.closeFd(fd).catch(() => {});
      },
    };
  }

  private async open(path: string, stats: DirectoryStats): Promise<number> {
    // Following symlinks is safe here: what counts is that the directory reached is the one listed.
    const fd = await this.fs.openDirectory(path, true);
    try {
      const st = await this.fs.stat(`/proc/self/fd/${fd}`);
      if (st.dev !== stats.dev || st.ino !== stats.ino)
        throw new IoItemError('directory replaced while it was being read', 'FILE_CHANGED');
      return fd;
    } catch (err) {
      await this.fs.closeFd(fd).catch(() => {});
      throw err;
    }
  }
}

/**
 * Starts a listing now: its first page is requested before anyone iterates, so it can travel
 * together with other requests (cp sends it alongside the HEAD that tells an object from a
 * prefix). An abandoned listing's failure is ignored.
 */
export function startListing(pages: AsyncIterable<ObjectInfo[]>): AsyncIterable<ObjectInfo[]> {
  const it = pages[Symbol.asyncIterator]();
  const first = it.next();
  first.catch(() => {});
  let started = false;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (started) return it.next();
        started = true;
        return first;
      },
      return: async () => (await it.return?.()) ?? { done: true, value: undefined },
    }),
  };
}

/**
 * Hands each page of a listing to `onPage` (which schedules work on `pool`) as soon as it
 * arrives, waiting for room in the pool between pages so that a huge bucket is not queued whole.
 * Returns how many objects were listed.
 */
export async function walkS3Prefix(
  pages: AsyncIterable<ObjectInfo[]>,
  pool: TaskPool,
  onPage: (objects: ObjectInfo[]) => void | Promise<void>,
): Promise<number> {
  let count = 0;
  for await (const page of pages) {
    count += page.length;
    await onPage(page);
    await pool.room();
  }
  return count;
}
