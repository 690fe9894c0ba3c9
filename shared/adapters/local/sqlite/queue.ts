// TaskQueue on SQLite: the task rows are the queue (partial index on queued rows by effective
// priority, then insertion order). Claiming marks a row active and counts the attempt in the same
// group commit; the claims this process made are remembered, so any other active row is a claim
// whose process died (lostClaims).
import {
  CLAIM_SCAN_LIMIT,
  type ClaimDecision,
  type QueuedTask,
  type TaskQueue,
} from '../../../ports/task-queue.ts';
import type { Row, SqliteDatabase } from './database.ts';

export class SqliteTaskQueue implements TaskQueue {
  /** Tasks this process claimed and has not settled yet. */
  private readonly mine = new Set<string>();

  constructor(private readonly d: SqliteDatabase) {}

  async claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<QueuedTask[]> {
    if (max <= 0) return [];
    this.d.batch();
    const page = this.d.sql(
      `SELECT task_id, job_id, node_name, algorithm_name, priority, queued_at, seq, eff_priority FROM tasks
       WHERE status = 'queued' AND (eff_priority < ? OR (eff_priority = ? AND seq > ?))
       ORDER BY eff_priority DESC, seq LIMIT ?`,
    );
    // The claim carries what running the task needs (its input, this run's number), so the
    // dispatcher and the outcome read no task record.
    const take = this.d.sql(
      `UPDATE tasks SET status = 'active', attempts = attempts + 1, started_at = ? WHERE task_id = ? AND status = 'queued'
       RETURNING attempts, input, input_blob, batch_index, pipeline_name`,
    );
    const claimed = this.d.db.transaction(() => {
      const out: [QueuedTask, Row][] = [];
      let cursor = { eff: 6, seq: 0 };
      // Scan in pages so a capped algorithm at the head cannot hide runnable tasks behind it. The
      // first page is small: a slot or two are free most times (a page of 256 rows per finished
      // task showed in profiles), and pages grow while the scan goes on.
      let size = 16;
      let stop = false;
      for (let scanned = 0; !stop && out.length < max && scanned < CLAIM_SCAN_LIMIT; ) {
        const rows = page.all(cursor.eff, cursor.eff, cursor.seq, size) as Row[];
        if (rows.length === 0) break;
        scanned += rows.length;
        size = Math.min(256, size * 4);
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
          const row = take.get(at, t.taskId) as Row | undefined;
          if (row) out.push([t, row]);
          if (out.length >= max) break;
        }
        const last = rows[rows.length - 1] as Row;
        cursor = { eff: Number(last.eff_priority), seq: Number(last.seq) };
      }
      return out;
    })();
    const tasks: QueuedTask[] = [];
    for (const [t, row] of claimed) {
      this.mine.add(t.taskId);
      tasks.push({
        ...t,
        ...(row.batch_index !== null ? { batchIndex: Number(row.batch_index) } : {}),
        pipelineName: String(row.pipeline_name),
        input: ((await this.d.decode(row.input, row.input_blob)) ?? []) as unknown[],
        attempt: Number(row.attempts),
      });
    }
    return tasks;
  }

  /** The tasks table is the queue: inserting a task already made it claimable. */
  async enqueue(): Promise<void> {}

  /** Claiming was the whole lease here; the claim is no longer this process's to remember. */
  async settle(t: QueuedTask): Promise<void> {
    this.mine.delete(t.taskId);
  }

  async release(t: QueuedTask): Promise<void> {
    this.d.batch();
    this.d
      .sql(
        "UPDATE tasks SET status = 'queued', attempts = attempts - 1, started_at = NULL WHERE task_id = ? AND status = 'active'",
      )
      .run(t.taskId);
    this.mine.delete(t.taskId);
  }

  durable(): Promise<void> {
    return this.d.durable();
  }

  async age(at: number, agingMs: number): Promise<number> {
    if (agingMs <= 0) return 0;
    this.d.batch();
    return this.d
      .sql(
        `UPDATE tasks SET eff_priority = MIN(5, priority + (? - queued_at) / ?)
         WHERE status = 'queued' AND eff_priority < 5 AND queued_at <= ?`,
      )
      .run(at, agingMs, at - agingMs).changes;
  }

  async depth(): Promise<number> {
    return Number((this.d.sql("SELECT COUNT(*) AS n FROM tasks WHERE status = 'queued'").get() as Row).n);
  }

  async queuedAlgorithms(): Promise<string[]> {
    const rows = this.d
      .sql("SELECT DISTINCT algorithm_name FROM tasks WHERE status = 'queued'")
      .all() as Row[];
    return rows.map((r) => String(r.algorithm_name));
  }

  async activeByAlgorithm(): Promise<Map<string, number>> {
    const rows = this.d
      .sql("SELECT algorithm_name, COUNT(*) AS n FROM tasks WHERE status = 'active' GROUP BY algorithm_name")
      .all() as Row[];
    return new Map(rows.map((r) => [String(r.algorithm_name), Number(r.n)]));
  }

  /** Active rows this process did not claim: their engine process died (or was closed) mid-task. */
  async lostClaims(): Promise<QueuedTask[]> {
    const rows = this.d
      .sql(
        "SELECT task_id, job_id, node_name, algorithm_name, priority, queued_at FROM tasks WHERE status = 'active'",
      )
      .all() as Row[];
    return rows
      .filter((r) => !this.mine.has(String(r.task_id)))
      .map((r) => ({
        taskId: String(r.task_id),
        jobId: String(r.job_id),
        nodeName: String(r.node_name),
        algorithmName: String(r.algorithm_name),
        priority: Number(r.priority),
        queuedAt: Number(r.queued_at),
      }));
  }

  /** Nothing queued and nothing running: the rows are all there is (they always are, here). */
  async quiet(): Promise<boolean> {
    const r = this.d.sql("SELECT COUNT(*) AS n FROM tasks WHERE status IN ('queued', 'active')").get() as Row;
    return Number(r.n) === 0;
  }
}
