// The embedded backend's SQLite file (better-sqlite3, WAL): opened once, shared by the jobs,
// tasks, queue and registry modules. Writes are group-committed: every write within GROUP_MS of
// the first joins one transaction.
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { loadValue, storeValue } from '../../../engine/stored-values.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import { MOVE_NODES_OUT_OF_JOBS } from './job-nodes.ts';
import { ADDED_COLUMNS, SCHEMA, SCHEMA_VERSION } from './schema.ts';

export type Row = Record<string, unknown>;

/** A value as two nullable columns: inline JSON text, or the key of a blob. */
export interface Encoded {
  text: string | null;
  blob: string | null;
}

/**
 * `full` (the default): every group commit's WAL is synced before durable() resolves, so a power
 * cut or an OS crash loses nothing acknowledged. `normal`: the WAL is synced only at checkpoints:
 * the file stays consistent, but the last commits before a cut can be lost (a crash of the process
 * alone loses nothing either way). docs/reliability.md has the cost of each.
 *
 * SQLite itself runs with synchronous=NORMAL in both: its FULL would fdatasync the WAL inside
 * COMMIT, on the event loop (a third of the engine thread's time in a `sluice make` profile). Here
 * the WAL file is fdatasync'ed on libuv's thread pool after the commit instead, one sync covering
 * every commit made before it started, and durable() waits for it: what is acknowledged (a 201, a
 * claimed task) is on disk as before; commits nobody waited for may be lost by a cut, as in normal.
 */
export type SqliteSynchronous = 'full' | 'normal';

/**
 * How long a group stays open for more writes (ms). One event-loop turn was the group until a busy
 * engine committed ~950 times for 2,000 `sluice make` recipes, a commit every ~1.5 ms, each writing
 * the pages it touched to the WAL; a millisecond halves that (4% less CPU in the engine-only
 * bench). What is acknowledged waits for its commit, so it waits up to this much longer.
 */
const GROUP_MS = 1;

export class SqliteDatabase {
  readonly db: Database.Database;
  private batchOpen = false;
  private committedWaiters: (() => void)[] = [];
  /** Full mode: the WAL's path, its descriptor (opened at the first sync), and the sync state. */
  private readonly walPath: string | undefined;
  private walFd: number | undefined;
  private unsynced = false;
  private syncing = false;
  /** Waiting for a sync that starts after their commit / for the sync under way. */
  private nextSyncWaiters: (() => void)[] = [];
  private syncWaiters: (() => void)[] = [];
  private statements = new Map<string, Database.Statement>();
  private closing = false;

  constructor(
    file: string,
    private readonly blobs: BlobStore,
    synchronous: SqliteSynchronous = 'full',
    /** fs.fdatasync (tests pass one that holds the sync back). */
    private readonly syncFile: (fd: number, done: (err: Error | null) => void) => void = fdatasync,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.walPath = synchronous === 'full' && file !== ':memory:' ? `${file}-wal` : undefined;
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    for (const { table, column, type } of ADDED_COLUMNS) {
      const cols = this.db.prepare(`PRAGMA table_info(${table})`).all() as Row[];
      if (!cols.some((c) => c.name === column))
        this.db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    }
    const was = this.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as
      | Row
      | undefined;
    if (was && Number(was.value) < 3) this.db.transaction(() => this.db.exec(MOVE_NODES_OUT_OF_JOBS))();
    this.db
      .prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      )
      .run('schema_version', String(SCHEMA_VERSION));
  }

  /**
   * Group commit: opens the group's transaction if none is open. A crash loses at most that group
   * (nothing in it was acknowledged yet), which recovery treats like any lost work (tasks go back
   * to the queue and run again). Cuts the per-task commit cost several times over.
   */
  batch(): void {
    if (this.batchOpen) return;
    this.db.exec('BEGIN');
    this.batchOpen = true;
    setTimeout(() => this.flush(), GROUP_MS);
  }

  /** Commits the open group (also done on close). */
  flush(): void {
    let committed = false;
    if (this.batchOpen) {
      this.batchOpen = false;
      if (this.db.open && this.db.inTransaction) {
        this.db.exec('COMMIT');
        committed = true;
      }
    }
    const waiters = this.committedWaiters.splice(0);
    if (!committed || !this.walPath) {
      for (const w of waiters) w();
      return;
    }
    this.unsynced = true;
    this.nextSyncWaiters.push(...waiters);
    this.startSync();
  }

  /** Resolves after the group holding the writes made so far is committed (and synced, in full mode). */
  durable(): Promise<void> {
    if (this.batchOpen) return new Promise((resolve) => this.committedWaiters.push(resolve));
    if (this.unsynced) return new Promise((resolve) => this.nextSyncWaiters.push(resolve));
    if (this.syncing) return new Promise((resolve) => this.syncWaiters.push(resolve));
    return Promise.resolve();
  }

  /** One fdatasync of the WAL at a time, covering every commit made before it starts. */
  private startSync(): void {
    if (this.syncing || !this.unsynced || !this.walPath || this.closing) return;
    try {
      this.walFd ??= openSync(this.walPath, 'r');
    } catch (err) {
      this.syncDone(err as Error);
      return;
    }
    this.syncing = true;
    this.unsynced = false;
    this.syncWaiters = this.nextSyncWaiters;
    this.nextSyncWaiters = [];
    const fd = this.walFd;
    this.syncFile(fd, (err) => {
      this.syncing = false;
      // Closed meanwhile: close() synced and left the descriptor to this sync to close.
      if (this.walFd === undefined) closeSync(fd);
      this.syncDone(err);
      this.startSync();
    });
  }

  private syncDone(err: Error | null): void {
    if (err) process.emitWarning(`sluice: could not sync the SQLite WAL: ${err.message}`);
    if (err && !this.syncing) {
      // Nothing in flight: whoever waits is told now rather than never.
      this.unsynced = false;
      for (const w of this.nextSyncWaiters.splice(0)) w();
    }
    for (const w of this.syncWaiters.splice(0)) w();
  }

  /** Prepared once, reused: compiling SQL on every call showed up in profiles. */
  sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  /** JSON inline up to INLINE_VALUE_LIMIT, else a blob (see stored-values.ts). */
  async encode(value: unknown, key: string | (() => string)): Promise<Encoded> {
    const v = await storeValue(this.blobs, value, key);
    return { text: v.text ?? null, blob: v.blob ?? null };
  }

  decode(text: unknown, blob: unknown): Promise<unknown> {
    return loadValue(this.blobs, text, blob);
  }

  close(): void {
    this.closing = true; // the sync below covers the last group: none is started for it
    this.flush();
    if (this.walFd !== undefined) {
      // What was committed is on disk when close() returns, as with SQLite's own FULL.
      fdatasyncSync(this.walFd);
      // A sync on the thread pool still holds it (closing it now failed that one with EBADF).
      if (!this.syncing) closeSync(this.walFd);
      this.walFd = undefined;
    }
    this.unsynced = false;
    for (const w of [...this.syncWaiters.splice(0), ...this.nextSyncWaiters.splice(0)]) w();
    this.db.close();
  }
}
