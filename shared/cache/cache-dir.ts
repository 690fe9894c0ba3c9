// The cache directory as a whole: the marker that says it is one (so `clear` never empties
// anything else), the lock a serving cache holds (server.json: pid and URL, taken over when that
// pid is dead, e.g. after kill -9), and the offline view `sluice cache stats/clear` use.
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DIR_BLOCKS, DIR_FORMAT, DIR_MARKER, DIR_SERVER, META_FILE } from './constants.ts';
import { CacheDirInUseError, CacheError } from './errors.ts';

/** SLUICE_CACHE_DIR, else $XDG_CACHE_HOME/sluice, else ~/.cache/sluice. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.SLUICE_CACHE_DIR) return env.SLUICE_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache'), 'sluice');
}

export interface ServerRecord {
  pid: number;
  url?: string;
}

export interface DirLock {
  /** Records the URL readers (and `sluice cache stats`) reach the server at. */
  publish(url: string): Promise<void>;
  release(): Promise<void>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readServer(dir: string): Promise<ServerRecord | undefined> {
  try {
    const r = JSON.parse(await readFile(join(dir, DIR_SERVER), 'utf8')) as ServerRecord;
    return Number.isInteger(r?.pid) ? r : undefined;
  } catch {
    return undefined;
  }
}

/** The server serving `dir`, if one is alive. */
export async function liveServer(dir: string): Promise<ServerRecord | undefined> {
  const r = await readServer(dir);
  return r && r.pid !== process.pid && alive(r.pid) ? r : undefined;
}

/** Creates the directory (or checks it is a cache directory) and takes its lock. */
export async function lockCacheDir(dir: string): Promise<DirLock> {
  await mkdir(dir, { recursive: true });
  const marker = join(dir, DIR_MARKER);
  const existing = await readFile(marker, 'utf8').catch(() => undefined);
  if (existing === undefined) await writeFile(marker, `${JSON.stringify({ format: DIR_FORMAT })}\n`);
  else if ((JSON.parse(existing) as { format?: number }).format !== DIR_FORMAT)
    throw new CacheError(`${dir} holds a cache of another format; clear it first`, 'CACHE_DIR_FORMAT', 409);
  const path = join(dir, DIR_SERVER);
  for (let attempt = 0; ; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(JSON.stringify({ pid: process.pid }));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const r = await liveServer(dir);
      if (r) throw new CacheDirInUseError(dir, r.pid, r.url);
      await unlink(path).catch(() => {});
    }
  }
  return {
    async publish(url) {
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ pid: process.pid, url }));
      await rename(tmp, path);
    },
    async release() {
      const r = await readServer(dir);
      if (r?.pid === process.pid) await unlink(path).catch(() => {});
    },
  };
}

export interface DirUsage {
  bytes: number;
  blocks: number;
  objects: number;
  /** Temporary files (blocks being written, or left by a crash). */
  temporary: number;
}

async function isCacheDir(dir: string): Promise<boolean> {
  return (await stat(join(dir, DIR_MARKER)).catch(() => undefined)) !== undefined;
}

/** Sizes on disk, read from the directory (no server needed). */
export async function dirUsage(dir: string): Promise<DirUsage> {
  if (!(await isCacheDir(dir)))
    throw new CacheError(`${dir} is not a sluice cache directory`, 'NOT_A_CACHE_DIR', 404);
  const u: DirUsage = { bytes: 0, blocks: 0, objects: 0, temporary: 0 };
  const root = join(dir, DIR_BLOCKS);
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    for (const object of await readdir(join(root, prefix)).catch(() => [] as string[])) {
      const files = await readdir(join(root, prefix, object)).catch(() => [] as string[]);
      if (files.includes(META_FILE)) u.objects++;
      for (const f of files) {
        const st = await stat(join(root, prefix, object, f)).catch(() => undefined);
        if (!st) continue;
        u.bytes += st.size;
        if (f.endsWith('.tmp')) u.temporary++;
        else if (f !== META_FILE) u.blocks++;
      }
    }
  }
  return u;
}

/** Deletes every block of a cache directory no server is using. */
export async function clearCacheDir(dir: string): Promise<DirUsage> {
  const before = await dirUsage(dir);
  const r = await liveServer(dir);
  if (r) throw new CacheDirInUseError(dir, r.pid, r.url);
  await rm(join(dir, DIR_BLOCKS), { recursive: true, force: true });
  return before;
}
