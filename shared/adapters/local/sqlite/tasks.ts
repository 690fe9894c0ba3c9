// TaskStore on SQLite: one row per task (the rows double as the queue, see queue.ts). Finishing a
// task counts it in its node's tally (tallies.ts) in the same synchronous step as the row write.
import { taskBlobKey } from '../../../engine/stored-values.ts';
import { parseTaskFailure } from '../../../ports/task-failure.ts';
import { hasOutput, parseTaskLogs } from '../../../ports/task-logs.ts';
import type {
  ItemResult,
  NewTask,
  NodeCounts,
  NodeTally,
  TaskFinish,
  TaskPageQuery,
  TaskPageRecord,
  TaskRecord,
  TaskStore,
} from '../../../ports/tasks.ts';
import type { Encoded, Row, SqliteDatabase } from './database.ts';
import type { SqliteTallies } from './tallies.ts';

/** The columns of a task row without its values (see pageTasks). */
const SUMMARY_COLUMNS = `task_id, job_id, node_name, batch_index, algorithm_name, pipeline_name, priority,
  queued_at, status, attempts, error, failure, started_at, finished_at`;

const num = (v: unknown): number | undefined => (v === null || v === undefined ? undefined : Number(v));

export class SqliteTasks implements TaskStore {
  /** Insertion order of queued tasks (the queue's tie-breaker after priority). */
  private seq: number;

  constructor(
    private readonly d: SqliteDatabase,
    private readonly tallies: SqliteTallies,
  ) {
    this.seq = Number((d.sql('SELECT MAX(seq) AS s FROM tasks').get() as Row).s ?? 0);
  }

  async insertTasks(tasks: NewTask[]): Promise<number> {
    const encoded: Encoded[] = [];
    for (const t of tasks)
      encoded.push(await this.d.encode(t.input, () => taskBlobKey(t.jobId, t.taskId, 'input')));
    const insert = this.d.sql(
      `INSERT INTO tasks (task_id, job_id, node_name, batch_index, algorithm_name, pipeline_name, status,
         priority, eff_priority, seq, input, input_blob, queued_at)
       VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?) ON CONFLICT(task_id) DO NOTHING`,
    );
    this.d.batch();
    const run = this.d.db.transaction(() => {
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

  /** A row without its values (input, result, logs): what a page of table rows needs. */
  private rowToSummary(r: Row): TaskPageRecord {
    const failure = r.failure ? parseTaskFailure(JSON.parse(String(r.failure))) : undefined;
    return {
      taskId: String(r.task_id),
      jobId: String(r.job_id),
      nodeName: String(r.node_name),
      ...(r.batch_index !== null ? { batchIndex: Number(r.batch_index) } : {}),
      algorithmName: String(r.algorithm_name),
      pipelineName: String(r.pipeline_name),
      priority: Number(r.priority),
      queuedAt: Number(r.queued_at),
      status: r.status as TaskRecord['status'],
      attempts: Number(r.attempts),
      ...(r.error !== null ? { error: String(r.error) } : {}),
      ...(failure ? { failure } : {}),
      ...(r.started_at !== null ? { startedAt: num(r.started_at) } : {}),
      ...(r.finished_at !== null ? { finishedAt: num(r.finished_at) } : {}),
    };
  }

  private async rowToTask(r: Row): Promise<TaskRecord> {
    const result = await this.d.decode(r.result, r.result_blob);
    const logs = r.logs !== null ? parseTaskLogs(String(r.logs)) : undefined;
    return {
      ...this.rowToSummary(r),
      input: ((await this.d.decode(r.input, r.input_blob)) ?? []) as unknown[],
      ...(result !== undefined ? { result } : {}),
      ...(logs ? { logs } : {}),
    };
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const r = this.d.sql('SELECT * FROM tasks WHERE task_id = ?').get(taskId) as Row | undefined;
    return r ? this.rowToTask(r) : undefined;
  }

  async getTasks(taskIds: string[]): Promise<TaskRecord[]> {
    // One statement whatever the count (the ids as one JSON parameter).
    const rows = this.d
      .sql('SELECT * FROM tasks WHERE task_id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify([...new Set(taskIds)])) as Row[];
    return Promise.all(rows.map((r) => this.rowToTask(r)));
  }

  async taskStatuses(taskIds: string[]): Promise<Pick<TaskRecord, 'taskId' | 'jobId' | 'status'>[]> {
    const rows = this.d
      .sql('SELECT task_id, job_id, status FROM tasks WHERE task_id IN (SELECT value FROM json_each(?))')
      .all(JSON.stringify([...new Set(taskIds)])) as Row[];
    return rows.map((r) => ({
      taskId: String(r.task_id),
      jobId: String(r.job_id),
      status: r.status as TaskRecord['status'],
    }));
  }

  async taskLease(taskId: string): Promise<{ status: TaskRecord['status']; attempts: number } | undefined> {
    const r = this.d.sql('SELECT status, attempts FROM tasks WHERE task_id = ?').get(taskId) as
      | Row
      | undefined;
    return r ? { status: r.status as TaskRecord['status'], attempts: Number(r.attempts) } : undefined;
  }

  async finishTask(taskId: string, f: TaskFinish): Promise<NodeTally | undefined> {
    const row = this.d.sql('SELECT job_id, node_name FROM tasks WHERE task_id = ?').get(taskId) as
      | Row
      | undefined;
    if (!row) return undefined;
    const jobId = String(row.job_id);
    const res = await this.d.encode(f.result, () => taskBlobKey(jobId, taskId, 'result'));
    this.d.batch();
    const r = this.d
      .sql(
        `UPDATE tasks SET status = ?, result = ?, result_blob = ?, error = ?, failure = ?, logs = ?, finished_at = ?
         WHERE task_id = ? AND status = 'active'`,
      )
      .run(
        f.status,
        res.text,
        res.blob,
        f.error ?? null,
        f.failure ? JSON.stringify(f.failure) : null,
        hasOutput(f.logs) ? JSON.stringify(f.logs) : null,
        f.at,
        taskId,
      );
    if (r.changes !== 1) return undefined;
    return this.tallies.count(jobId, String(row.node_name), f.status);
  }

  async requeueTask(taskId: string, at: number): Promise<boolean> {
    this.d.batch();
    const r = this.d
      .sql(
        "UPDATE tasks SET status = 'queued', queued_at = ?, started_at = NULL WHERE task_id = ? AND status = 'active'",
      )
      .run(at, taskId);
    return r.changes === 1;
  }

  async stopTasks(jobId: string, reason: string, at: number): Promise<string[]> {
    this.d.batch();
    const stopped = this.d.db.transaction(() => {
      const active = this.d
        .sql("SELECT task_id FROM tasks WHERE job_id = ? AND status = 'active'")
        .all(jobId) as Row[];
      this.d
        .sql(
          `UPDATE tasks SET status = 'stopped', error = ?, finished_at = ?
           WHERE job_id = ? AND status IN ('queued', 'active')`,
        )
        .run(reason, at, jobId);
      return active.map((r) => String(r.task_id));
    })();
    this.tallies.forget(jobId);
    return stopped;
  }

  async nodeCounts(jobId: string): Promise<Record<string, NodeCounts>> {
    const rows = this.d
      .sql('SELECT node_name, status, COUNT(*) AS n FROM tasks WHERE job_id = ? GROUP BY node_name, status')
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

  /** The tallies are counted from the rows whenever they are not known: forgetting them recounts. */
  async rebuildTallies(jobId: string): Promise<void> {
    this.tallies.forget(jobId);
  }

  private async rowToItem(r: Row): Promise<ItemResult> {
    const result = await this.d.decode(r.result, r.result_blob);
    return {
      ...(r.batch_index !== null ? { batchIndex: Number(r.batch_index) } : {}),
      status: r.status as ItemResult['status'],
      ...(result !== undefined ? { result } : {}),
      ...(r.error !== null ? { error: String(r.error) } : {}),
    };
  }

  async nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]> {
    const rows = this.d
      .sql(
        `SELECT batch_index, status, result, result_blob, error FROM tasks
         WHERE job_id = ? AND node_name = ? ORDER BY batch_index`,
      )
      .all(jobId, nodeName) as Row[];
    return Promise.all(rows.map((r) => this.rowToItem(r)));
  }

  async itemResult(jobId: string, nodeName: string, batchIndex: number): Promise<ItemResult | undefined> {
    const r = this.d
      .sql(
        `SELECT batch_index, status, result, result_blob, error FROM tasks
         WHERE job_id = ? AND node_name = ? AND batch_index = ?`,
      )
      .get(jobId, nodeName, batchIndex) as Row | undefined;
    return r ? this.rowToItem(r) : undefined;
  }

  async listTasks(jobId: string, nodeName?: string): Promise<TaskRecord[]> {
    const rows = (
      nodeName
        ? this.d
            .sql('SELECT * FROM tasks WHERE job_id = ? AND node_name = ? ORDER BY batch_index')
            .all(jobId, nodeName)
        : this.d.sql('SELECT * FROM tasks WHERE job_id = ? ORDER BY seq').all(jobId)
    ) as Row[];
    return Promise.all(rows.map((r) => this.rowToTask(r)));
  }

  async pageTasks(jobId: string, nodeName: string, q: TaskPageQuery): Promise<TaskPageRecord[]> {
    const columns = q.summary ? SUMMARY_COLUMNS : '*';
    // Keyset paging on the (job_id, node_name, batch_index) index: a late page costs what the first does.
    const rows = this.d
      .sql(
        `SELECT ${columns} FROM tasks WHERE job_id = ? AND node_name = ?
         ${q.after !== undefined ? 'AND batch_index > ?' : ''} ${q.status ? 'AND status = ?' : ''}
         ORDER BY batch_index LIMIT ?`,
      )
      .all(
        jobId,
        nodeName,
        ...(q.after !== undefined ? [q.after] : []),
        ...(q.status ? [q.status] : []),
        q.limit,
      ) as Row[];
    return q.summary
      ? rows.map((r) => this.rowToSummary(r))
      : Promise.all(rows.map((r) => this.rowToTask(r)));
  }

  async copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void> {
    this.d.batch();
    const copy = this.d.sql(
      `INSERT INTO tasks (task_id, job_id, node_name, batch_index, algorithm_name, pipeline_name, status, priority,
         eff_priority, seq, attempts, input, input_blob, result, result_blob, error, failure, logs, queued_at, started_at, finished_at)
       SELECT ? || substr(task_id, ?), ?, node_name, batch_index, algorithm_name, pipeline_name, status, priority,
         eff_priority, seq, attempts, input, input_blob, result, result_blob, error, failure, logs, queued_at, started_at, finished_at
       FROM tasks WHERE job_id = ? AND node_name = ?`,
    );
    this.d.db.transaction(() => {
      for (const n of nodeNames) copy.run(toJobId, fromJobId.length + 1, toJobId, fromJobId, n);
    })();
    this.tallies.forget(toJobId);
  }
}
