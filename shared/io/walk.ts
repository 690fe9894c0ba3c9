// The concurrent tree walker shared by cp, zip and rm. Local trees: every directory is listed as
// its own task in the TaskPool, so sibling directories are listed at once, and the entry types
// come from the listing (dirent types) — no lstat per entry. S3 prefixes: listed page by page,
// each page handed over as soon as it arrives, pausing while too much work is queued.
import { type Dirent, existsSync } from 'node:fs';
import type { ObjectInfo } from '../ports/object-store.ts';
import { type LocalFs, threadedFs } from './local-fs.ts';
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
  /** The directory's own attributes, when the walk was asked for them (cp keeps modes/mtimes). */
  stats?: { mode: number; atimeMs: number; mtimeMs: number };
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

/** Schedules the walk of a local directory tree on `pool`; await `pool.idle()` for the end. */
/** Acting through /proc/self/fd/N: Linux with /proc mounted. */
const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

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
          dir = {
            rel,
            path,
            at,
            release: () => {
              if (released) return;
              released = true;
              own.drop();
            },
            entries: dirents.map((d) => ({ name: d.name, kind: entryKind(d) })),
            ...(st ? { stats: { mode: st.mode, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs } } : {}),
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
        if (!opts.keepOpen) dir.release();
      }
    });
  list('', root, root);
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
