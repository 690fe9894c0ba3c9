// The embedded backend's SQLite file (better-sqlite3, WAL): opened once, shared by the jobs,
// tasks, queue and registry modules. Writes are group-committed: every write of one event-loop
// turn joins one transaction, committed on the next turn.
import { mkdirSync } from 'node:fs';
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
 * `full` (the default): every group commit syncs the WAL, so a power cut or an OS crash loses
 * nothing committed. `normal`: the WAL is synced only at checkpoints: the file stays consistent,
 * but the last commits before a cut can be lost (a crash of the process alone loses nothing either
 * way). docs/reliability.md has the cost of each.
 */
export type SqliteSynchronous = 'full' | 'normal';

export class SqliteDatabase {
  readonly db: Database.Database;
  private batchOpen = false;
  private committedWaiters: (() => void)[] = [];
  private statements = new Map<string, Database.Statement>();

  constructor(
    file: string,
    private readonly blobs: BlobStore,
    synchronous: SqliteSynchronous = 'full',
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
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
   * Group commit: opens the turn's transaction if none is open. A crash loses at most that turn,
   * which recovery treats like any lost work (tasks go back to the queue and run again). Cuts the
   * per-task commit cost several times over.
   */
  batch(): void {
    if (this.batchOpen) return;
    this.db.exec('BEGIN');
    this.batchOpen = true;
    setImmediate(() => this.flush());
  }

  /** Commits the open group (also done on close). */
  flush(): void {
    if (this.batchOpen) {
      this.batchOpen = false;
      if (this.db.open && this.db.inTransaction) this.db.exec('COMMIT');
    }
    for (const w of this.committedWaiters.splice(0)) w();
  }

  /** Resolves after the group holding the writes made so far is committed. */
  durable(): Promise<void> {
    if (!this.batchOpen) return Promise.resolve();
    return new Promise((resolve) => this.committedWaiters.push(resolve));
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
  async encode(value: unknown, key: string): Promise<Encoded> {
    const v = await storeValue(this.blobs, value, key);
    return { text: v.text ?? null, blob: v.blob ?? null };
  }

  decode(text: unknown, blob: unknown): Promise<unknown> {
    return loadValue(this.blobs, text, blob);
  }

  close(): void {
    this.flush();
    this.db.close();
  }
}
