// JobStore + TaskQueue on one SQLite file (better-sqlite3, WAL). The tasks table is also the
// queue. Values over INLINE_VALUE_LIMIT go to the BlobStore and only their key is stored.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { jobStateText, loadValue, storeValue } from '../../engine/stored-values.ts';
import type { JobState } from '../../engine/types.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { AlgorithmDefinition, Pipeline } from '../../pipeline/types.ts';
import type { BlobStore } from '../../ports/blob-store.ts';
import type {
  ItemResult,
  JobFilter,
  JobStore,
  JobSummary,
  NewTask,
  NodeCounts,
  TaskFinish,
  TaskRecord,
} from '../../ports/job-store.ts';
import {
  CLAIM_SCAN_LIMIT,
  type ClaimDecision,
  type QueuedTask,
  type TaskQueue,
} from '../../ports/task-queue.ts';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema.ts';

type Row = Record<string, unknown>;

interface Encoded {
  text: string | null;
  blob: string | null;
}

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

export class SqliteStore implements JobStore, TaskQueue {
  readonly db: Database.Database;
  private seq: number;
  /** Parsed pipelines by job: parsing a large flowInput once per event would dominate. */
  private pipelines = new Map<string, Pipeline>();
  /** Latest state this process wrote or read, used while the stored version still matches. */
  private states = new Map<string, JobState>();

  constructor(
    file: string,
    private readonly blobs: BlobStore,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    this.db
      .prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING')
      .run('schema_version', String(SCHEMA_VERSION));
    this.seq = Number((this.db.prepare('SELECT MAX(seq) AS s FROM tasks').get() as Row).s ?? 0);
  }

  close(): void {
    this.flush();
    this.db.close();
  }

  private batchOpen = false;
  /**
   * Group commit: every write of one event-loop turn joins one transaction, committed on the next
   * turn. A crash loses at most that turn, which recovery treats like any lost work (tasks go back
   * to the queue and run again). Cuts the per-task commit cost several times over.
   */
  private batch(): void {
    if (this.batchOpen) return;
    this.db.exec('BEGIN');
    this.batchOpen = true;
    setImmediate(() => this.flush());
  }

  private committedWaiters: (() => void)[] = [];

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

  private statements = new Map<string, Database.Statement>();
  /** Prepared once, reused: compiling SQL on every call showed up in profiles. */
  private sql(text: string): Database.Statement {
    let st = this.statements.get(text);
    if (!st) {
      st = this.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  // ----------------------------------------------------------------------------- values
  private async encode(value: unknown, key: string): Promise<Encoded> {
    const v = await storeValue(this.blobs, value, key);
    return { text: v.text ?? null, blob: v.blob ?? null };
  }

  private decode(text: unknown, blob: unknown): Promise<unknown> {
    return loadValue(this.blobs, text, blob);
  }

  // ----------------------------------------------------------------------------- jobs
  private stateText(state: JobState): string {
    return jobStateText(state);
  }

  async createJob(state: JobState): Promise<void> {
    const p = await this.encode(state.pipeline, `jobs/${state.jobId}/pipeline.json`);
    this.batch();
    try {
      this.db
        .prepare(
          `INSERT INTO jobs (job_id, pipeline_name, status, priority, created_at, finished_at, version, state, pipeline, pipeline_blob)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          state.jobId,
          state.pipeline.name,
          state.status,
          state.pipeline.priority,
          state.createdAt,
          state.finishedAt ?? null,
          state.version,
          this.stateText(state),
          p.text ?? '',
          p.blob,
        );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError(`job ${state.jobId} already exists`);
      }
      throw err;
    }
    this.pipelines.set(state.jobId, state.pipeline);
  }

  private async rowToJob(row: Row): Promise<JobState> {
    const jobId = String(row.job_id);
    let pipeline = this.pipelines.get(jobId);
    if (!pipeline) {
      pipeline = (await this.decode(row.pipeline || null, row.pipeline_blob)) as Pipeline;
      this.pipelines.set(jobId, pipeline);
    }
    return { ...(JSON.parse(String(row.state)) as Omit<JobState, 'pipeline'>), pipeline };
  }

  async getJob(jobId: string): Promise<JobState | undefined> {
    const cached = this.states.get(jobId);
    if (cached) {
      const v = this.sql('SELECT version FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
      if (v && Number(v.version) === cached.version) return cached;
    }
    const row = this.sql('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
    if (!row) return undefined;
    const state = await this.rowToJob(row);
    this.remember(state);
    return state;
  }

  private remember(state: JobState): void {
    if (state.status === 'completed' || state.status === 'failed' || state.status === 'stopped') {
      this.states.delete(state.jobId);
      return;
    }
    this.states.set(state.jobId, state);
  }

  async saveJob(state: JobState, expectedVersion: number): Promise<boolean> {
    this.batch();
    const r = this.db
      .prepare(
        'UPDATE jobs SET status = ?, finished_at = ?, version = ?, state = ? WHERE job_id = ? AND version = ?',
      )
      .run(
        state.status,
        state.finishedAt ?? null,
        state.version,
        this.stateText(state),
        state.jobId,
        expectedVersion,
      );
    if (r.changes === 1) this.remember(state);
    return r.changes === 1;
  }

  async listJobs(filter: JobFilter): Promise<JobSummary[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.pipelineName) {
      where.push('pipeline_name = ?');
      args.push(filter.pipelineName);
    }
    const rows = this.db
      .prepare(
        `SELECT job_id, pipeline_name, status, priority, created_at, finished_at, state FROM jobs
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(...args, filter.limit ?? 100) as Row[];
    return rows.map((r) => {
      const reason = (JSON.parse(String(r.state)) as { reason?: string }).reason;
      return {
        jobId: String(r.job_id),
        pipelineName: String(r.pipeline_name),
        status: r.status as JobSummary['status'],
        priority: Number(r.priority),
        createdAt: Number(r.created_at),
        ...(r.finished_at !== null ? { finishedAt: Number(r.finished_at) } : {}),
        ...(reason ? { reason } : {}),
      };
    });
  }

  async unfinishedJobs(): Promise<JobState[]> {
    const rows = this.db
      .prepare("SELECT * FROM jobs WHERE status IN ('pending', 'active') ORDER BY created_at, rowid")
      .all() as Row[];
    return Promise.all(rows.map((r) => this.rowToJob(r)));
  }

  async countActiveJobs(pipelineName: string): Promise<number> {
    const r = this.db
      .prepare("SELECT COUNT(*) AS n FROM jobs WHERE pipeline_name = ? AND status = 'active'")
      .get(pipelineName) as Row;
    return Number(r.n);
  }

  // ----------------------------------------------------------------------------- tasks
  async insertTasks(tasks: NewTask[]): Promise<number> {
    const encoded: Encoded[] = [];
    for (const t of tasks)
      encoded.push(await this.encode(t.input, `tasks/${t.jobId}/${t.taskId}.input.json`));
    const insert = this.sql(
      `INSERT INTO tasks (task_id, job_id, node_name, batch_index, algorithm_name, pipeline_name, status,
         priority, eff_priority, seq, input, input_blob, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) ON CONFLICT(task_id) DO NOTHING`,
    );
    this.batch();
    const run = this.db.transaction(() => {
      let n = 0;
      tasks.forEach((t, i) => {
        const e = encoded[i] as Encoded;
        const r = insert.run(
          t.taskId,
          t.jobId,
          t.nodeName,
          t.batchIndex ?? null,
          t.algorithmName,
          t.pipelineName,
          t.priority,
          t.priority,
          ++this.seq,
          e.text,
          e.blob,
          t.queuedAt,
        );
        n += r.changes;
      });
      return n;
    });
    return run();
  }

  private async rowToTask(r: Row): Promise<TaskRecord> {
    const result = await this.decode(r.result, r.result_blob);
    return {
      taskId: String(r.task_id),
      jobId: String(r.job_id),
      nodeName: String(r.node_name),
      ...(r.batch_index !== null ? { batchIndex: Number(r.batch_index) } : {}),
      algorithmName: String(r.algorithm_name),
      pipelineName: String(r.pipeline_name),
      priority: Number(r.priority),
      input: ((await this.decode(r.input, r.input_blob)) ?? []) as unknown[],
      queuedAt: Number(r.queued_at),
      status: r.status as TaskRecord['status'],
      attempts: Number(r.attempts),
      ...(result !== undefined ? { result } : {}),
      ...(r.error !== null ? { error: String(r.error) } : {}),
      ...(r.logs !== null ? { logs: JSON.parse(String(r.logs)) as string[] } : {}),
      ...(r.started_at !== null ? { startedAt: num(r.started_at) } : {}),
      ...(r.finished_at !== null ? { finishedAt: num(r.finished_at) } : {}),
    };
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const r = this.sql('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as Row | undefined;
    return r ? this.rowToTask(r) : undefined;
  }

  async finishTask(taskId: string, f: TaskFinish): Promise<boolean> {
    const row = this.sql('SELECT job_id FROM tasks WHERE task_id = ?').get(taskId) as Row | undefined;
    if (!row) return false;
    const res = await this.encode(f.result, `tasks/${String(row.job_id)}/${taskId}.result.json`);
    this.batch();
    const r = this.db
      .prepare(
        `UPDATE tasks SET status = ?, result = ?, result_blob = ?, error = ?, logs = ?, finished_at = ?
         WHERE task_id = ? AND status = 'active'`,
      )
      .run(
        f.status,
        res.text,
        res.blob,
        f.error ?? null,
        f.logs?.length ? JSON.stringify(f.logs) : null,
        f.at,
        taskId,
      );
    return r.changes === 1;
  }

  async requeueTask(taskId: string, at: number): Promise<boolean> {
    this.batch();
    const r = this.db
      .prepare(
        "UPDATE tasks SET status = 'queued', queued_at = ?, started_at = NULL WHERE task_id = ? AND status = 'active'",
      )
      .run(at, taskId);
    return r.changes === 1;
  }

  async stopTasks(jobId: string, reason: string, at: number): Promise<string[]> {
    this.batch();
    return this.db.transaction(() => {
      const active = this.db
        .prepare("SELECT task_id FROM tasks WHERE job_id = ? AND status = 'active'")
        .all(jobId) as Row[];
      this.db
        .prepare(
          `UPDATE tasks SET status = 'stopped', error = ?, finished_at = ?
           WHERE job_id = ? AND status IN ('queued', 'active')`,
        )
        .run(reason, at, jobId);
      return active.map((r) => String(r.task_id));
    })();
  }

  async nodeCounts(jobId: string): Promise<Record<string, NodeCounts>> {
    const rows = this.db
      .prepare(
        'SELECT node_name, status, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY node_name, status',
      )
      .all(jobId) as Row[];
    const out: Record<string, NodeCounts> = {};
    for (const r of rows) {
      const name = String(r.node_name);
      const c = out[name] ?? { created: 0, queued: 0, active: 0, succeeded: 0, failed: 0, stopped: 0 };
      out[name] = c;
      const n = Number(r.n);
      c.created += n;
      if (r.status === 'succeeded') c.succeeded += n;
      else if (r.status === 'failed') c.failed += n;
      else if (r.status === 'stopped') c.stopped += n;
      else if (r.status === 'queued') c.queued += n;
      else if (r.status === 'active') c.active += n;
    }
    return out;
  }

  private async rowToItem(r: Row): Promise<ItemResult> {
    const result = await this.decode(r.result, r.result_blob);
    return {
      ...(r.batch_index !== null ? { batchIndex: Number(r.batch_index) } : {}),
      status: r.status as ItemResult['status'],
      ...(result !== undefined ? { result } : {}),
      ...(r.error !== null ? { error: String(r.error) } : {}),
    };
  }

  async nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]> {
    const rows = this.db
      .prepare(
        `SELECT batch_index, status, result, result_blob, error FROM tasks
         WHERE job_id = ? AND node_name = ? ORDER BY batch_index`,
      )
      .all(jobId, nodeName) as Row[];
    return Promise.all(rows.map((r) => this.rowToItem(r)));
  }

  async itemResult(jobId: string, nodeName: string, batchIndex: number): Promise<ItemResult | undefined> {
    const r = this.db
      .prepare(
        `SELECT batch_index, status, result, result_blob, error FROM tasks
         WHERE job_id = ? AND node_name = ? AND batch_index = ?`,
      )
      .get(jobId, nodeName, batchIndex) as Row | undefined;
    return r ? this.rowToItem(r) : undefined;
  }

  async listTasks(jobId: string, nodeName?: string): Promise<TaskRecord[]> {
    const rows = (
      nodeName
        ? this.db
            .prepare('SELECT * FROM tasks WHERE job_id = ? AND node_name = ? ORDER BY batch_index')
            .all(jobId, nodeName)
        : this.sql('SELECT * FROM tasks WHERE job_id = ? ORDER BY seq').all(jobId)
    ) as Row[];
    return Promise.all(rows.map((r) => this.rowToTask(r)));
  }

  async copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void> {
    this.batch();
    const copy = this.sql(
      `INSERT INTO tasks (task_id, job_id, node_name, batch_index, algorithm_name, pipeline_name, status, priority,
         eff_priority, seq, attempts, input, input_blob, result, result_blob, error, logs, queued_at, started_at, finished_at)
       SELECT ? || substr(task_id, ?), ?, node_name, batch_index, algorithm_name, pipeline_name, status, priority,
         eff_priority, seq, attempts, input, input_blob, result, result_blob, error, logs, queued_at, started_at, finished_at
       FROM tasks WHERE job_id = ? AND node_name = ?`,
    );
    this.db.transaction(() => {
      for (const n of nodeNames) copy.run(toJobId, fromJobId.length + 1, toJobId, fromJobId, n);
    })();
  }

  async saveResults(jobId: string, results: unknown): Promise<void> {
    const e = await this.encode(results, `jobs/${jobId}/results.json`);
    this.batch();
    this.db
      .prepare('UPDATE jobs SET results = ?, results_blob = ? WHERE job_id = ?')
      .run(e.text, e.blob, jobId);
  }

  async getResults(jobId: string): Promise<unknown | undefined> {
    const r = this.sql('SELECT results, results_blob FROM jobs WHERE job_id = ?').get(jobId) as
      | Row
      | undefined;
    return r ? this.decode(r.results, r.results_blob) : undefined;
  }

  // ----------------------------------------------------------------------------- queue
  async claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<QueuedTask[]> {
    if (max <= 0) return [];
    this.batch();
    const page = this.sql(
      `SELECT task_id, job_id, node_name, algorithm_name, priority, queued_at, seq, eff_priority FROM tasks
       WHERE status = 'queued' AND (eff_priority < ? OR (eff_priority = ? AND seq > ?))
       ORDER BY eff_priority DESC, seq LIMIT 256`,
    );
    const take = this.sql(
      "UPDATE tasks SET status = 'active', attempts = attempts + 1, started_at = ? WHERE task_id = ? AND status = 'queued'",
    );
    return this.db.transaction(() => {
      const claimed: QueuedTask[] = [];
      let cursor = { eff: 6, seq: 0 };
      // Scan in pages so a capped algorithm at the head cannot hide runnable tasks behind it.
      let stop = false;
      for (let scanned = 0; !stop && claimed.length < max && scanned < CLAIM_SCAN_LIMIT; ) {
        const rows = page.all(cursor.eff, cursor.eff, cursor.seq) as Row[];
        if (rows.length === 0) break;
        scanned += rows.length;
        for (const r of rows) {
          const t: QueuedTask = {
            taskId: String(r.task_id),
            jobId: String(r.job_id),
            nodeName: String(r.node_name),
            algorithmName: String(r.algorithm_name),
            priority: Number(r.priority),
            queuedAt: Number(r.queued_at),
          };
          const decision = accept(t);
          if (decision === 'stop') {
            stop = true;
            break;
          }
          if (decision === 'skip') continue;
          if (take.run(at, t.taskId).changes === 1) claimed.push(t);
          if (claimed.length >= max) break;
        }
        const last = rows[rows.length - 1] as Row;
        cursor = { eff: Number(last.eff_priority), seq: Number(last.seq) };
      }
      return claimed;
    })();
  }

  /** The tasks table is the queue: inserting a task already made it claimable. */
  async enqueue(): Promise<void> {}

  /** Claiming was the whole lease here. */
  async settle(): Promise<void> {}

  async age(at: number, agingMs: number): Promise<void> {
    this.batch();
    this.db
      .prepare(
        `UPDATE tasks SET eff_priority = MIN(5, priority + (? - queued_at) / ?)
         WHERE status = 'queued' AND eff_priority < 5 AND queued_at <= ?`,
      )
      .run(at, agingMs, at - agingMs);
  }

  async depth(): Promise<number> {
    return Number((this.sql("SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'").get() as Row).n);
  }

  async queuedAlgorithms(): Promise<string[]> {
    const rows = this.db
      .prepare("SELECT DISTINCT algorithm_name FROM tasks WHERE status = 'queued'")
      .all() as Row[];
    return rows.map((r) => String(r.algorithm_name));
  }

  async activeByAlgorithm(): Promise<Map<string, number>> {
    const rows = this.db
      .prepare(
        "SELECT algorithm_name, COUNT(*) AS n FROM tasks WHERE status = 'active' GROUP BY algorithm_name",
      )
      .all() as Row[];
    return new Map(rows.map((r) => [String(r.algorithm_name), Number(r.n)]));
  }

  /** Active tasks whose runner is gone (after a crash of the engine process). */
  async orphanedActiveTasks(): Promise<
    { taskId: string; jobId: string; nodeName: string; attempts: number }[]
  > {
    const rows = this.db
      .prepare("SELECT task_id, job_id, node_name, attempts FROM tasks WHERE status = 'active'")
      .all() as Row[];
    return rows.map((r) => ({
      taskId: String(r.task_id),
      jobId: String(r.job_id),
      nodeName: String(r.node_name),
      attempts: Number(r.attempts),
    }));
  }

  // ----------------------------------------------------------------------------- registry
  private putNamed(
    table: 'pipelines' | 'algorithms',
    kind: string,
    name: string,
    body: unknown,
    mode: string,
  ) {
    const exists = this.sql(`SELECT 1 FROM ${table} WHERE name = ?`).get(name) !== undefined;
    if (mode === 'create' && exists) throw new ConflictError(`${kind} "${name}" already exists`);
    if (mode === 'update' && !exists) return false;
    this.db
      .prepare(
        `INSERT INTO ${table} (name, body, updated_at) VALUES (?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
      )
      .run(name, JSON.stringify(body), Date.now());
    return true;
  }

  async putPipeline(p: Pipeline, mode: 'create' | 'update' | 'upsert'): Promise<void> {
    if (!this.putNamed('pipelines', 'pipeline', p.name, p, mode)) {
      throw new NotFoundError(`pipeline "${p.name}" does not exist`);
    }
  }
  async getPipeline(name: string): Promise<Pipeline | undefined> {
    const r = this.sql('SELECT body FROM pipelines WHERE name = ?').get(name) as Row | undefined;
    return r ? (JSON.parse(String(r.body)) as Pipeline) : undefined;
  }
  async listPipelines(): Promise<Pipeline[]> {
    return (this.sql('SELECT body FROM pipelines ORDER BY name').all() as Row[]).map(
      (r) => JSON.parse(String(r.body)) as Pipeline,
    );
  }
  async deletePipeline(name: string): Promise<boolean> {
    return this.sql('DELETE FROM pipelines WHERE name = ?').run(name).changes === 1;
  }
  async putAlgorithm(a: AlgorithmDefinition, mode: 'create' | 'update' | 'upsert'): Promise<void> {
    if (!this.putNamed('algorithms', 'algorithm', a.name, a, mode)) {
      throw new NotFoundError(`algorithm "${a.name}" does not exist`);
    }
  }
  async getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined> {
    const r = this.sql('SELECT body FROM algorithms WHERE name = ?').get(name) as Row | undefined;
    return r ? (JSON.parse(String(r.body)) as AlgorithmDefinition) : undefined;
  }
  async listAlgorithms(): Promise<AlgorithmDefinition[]> {
    return (this.sql('SELECT body FROM algorithms ORDER BY name').all() as Row[]).map(
      (r) => JSON.parse(String(r.body)) as AlgorithmDefinition,
    );
  }
  async deleteAlgorithm(name: string): Promise<boolean> {
    return this.sql('DELETE FROM algorithms WHERE name = ?').run(name).changes === 1;
  }
}
