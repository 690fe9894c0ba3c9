// One engine per SLUICE_HOME: `engine.lock` holds the pid of the engine running there. Taking it
// over from a dead engine is check-then-write, so every taker does it inside one write transaction
// of the home's SQLite database: takers on the same home are serialized by SQLite's lock (which the
// kernel releases if a holder dies), and exactly one of several engines starting at once wins.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SqliteDatabase } from '../../adapters/local/sqlite/database.ts';
import { ConflictError } from '../../errors.ts';

/** How long a taker waits for the database's write lock, in busy_timeout rounds, before giving up. */
const LOCK_ATTEMPTS = 6;

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function holder(lock: string): number | undefined {
  try {
    const pid = Number(readFileSync(lock, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `$home/engine.lock` for this process, or throws ENGINE_RUNNING naming the live holder.
 * The pid is written aside and renamed in, so a reader never sees an empty or partial file.
 */
export function takeEngineLock(home: string, database: SqliteDatabase): void {
  const lock = join(home, 'engine.lock');
  const running = (pid: number) =>
    new ConflictError(`an engine (pid ${pid}) is already running for ${home}`, 'ENGINE_RUNNING');
  database.flush(); // the group commit's open transaction must not swallow this one
  const take = database.db.transaction(() => {
    const pid = holder(lock);
    if (pid !== undefined && pid !== process.pid && processAlive(pid)) throw running(pid);
    const tmp = `${lock}.${process.pid}.tmp`;
    try {
      writeFileSync(tmp, String(process.pid));
      renameSync(tmp, lock);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  });
  for (let i = 1; ; i++) {
    try {
      take.immediate(); // BEGIN IMMEDIATE: the write lock for the check and the write together
      return;
    } catch (err) {
      // Busy past busy_timeout: the write lock is held by a live engine at work, or by a taker.
      if ((err as { code?: string }).code !== 'SQLITE_BUSY') throw err;
      if (i < LOCK_ATTEMPTS) continue;
      const pid = holder(lock);
      if (pid !== undefined && processAlive(pid)) throw running(pid);
      throw new ConflictError(`could not lock ${lock}: its state database stays busy`, 'ENGINE_RUNNING');
    }
  }
}

/** Gives the lock up (the engine closes). */
export function releaseEngineLock(home: string): void {
  rmSync(join(home, 'engine.lock'), { force: true });
}
