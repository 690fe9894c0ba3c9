// JobStore on SQLite: one row per job (its state as JSON, its pipeline, its results) and one row
// per node (job-nodes.ts), so an event writes only what it changed. Readers get node counters
// brought up to date from the node tallies, because an outcome that changes only a counter does
// not rewrite the job (see engine/outcomes.ts).

import { jobStateText } from '../../../engine/stored-values.ts';
import { ConflictError } from '../../../errors.ts';
import type { Pipeline } from '../../../pipeline/types.ts';
import { isJobFinal, type JobState, type NodeState, raisedToTally } from '../../../ports/job-state.ts';
import type { JobFilter, JobStore, JobSummary } from '../../../ports/jobs.ts';
import type { Row, SqliteDatabase } from './database.ts';
import { SqliteJobNodes } from './job-nodes.ts';
import type { SqliteTallies } from './tallies.ts';

export class SqliteJobs implements JobStore {
  /** Parsed pipelines by job: parsing a large flowInput once per event would dominate. */
  private pipelines = new Map<string, Pipeline>();
  /** Latest state this process wrote or read, used while the stored version still matches. */
  private states = new Map<string, JobState>();
  private readonly nodes: SqliteJobNodes;

  constructor(
    private readonly d: SqliteDatabase,
    private readonly tallies: SqliteTallies,
  ) {
    this.nodes = new SqliteJobNodes(d);
  }

  async createJob(state: JobState): Promise<void> {
    const p = await this.d.encode(state.pipeline, `jobs/${state.jobId}/pipeline.json`);
    this.d.batch();
    try {
      this.d
        .sql(
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
          jobStateText(state),
          p.text ?? '',
          p.blob,
        );
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new ConflictError(`job ${state.jobId} already exists`);
      }
      throw err;
    }
    this.nodes.write(state);
    this.pipelines.set(state.jobId, state.pipeline);
  }

  private async rowToJob(row: Row): Promise<JobState> {
    const jobId = String(row.job_id);
    let pipeline = this.pipelines.get(jobId);
    if (!pipeline) {
      pipeline = (await this.d.decode(row.pipeline || null, row.pipeline_blob)) as Pipeline;
      this.pipelines.set(jobId, pipeline);
    }
    const rest = JSON.parse(String(row.state)) as Omit<JobState, 'pipeline' | 'nodes'>;
    return { ...rest, nodes: this.nodes.read(jobId), pipeline };
  }

  async getJob(jobId: string): Promise<JobState | undefined> {
    const cached = this.states.get(jobId);
    if (cached) {
      const v = this.d.sql('SELECT version FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
      if (v && Number(v.version) === cached.version) return this.withTallies(cached);
    }
    const row = this.d.sql('SELECT * FROM jobs WHERE job_id = ?').get(jobId) as Row | undefined;
    if (!row) return undefined;
    const state = await this.rowToJob(row);
    this.remember(state);
    return this.withTallies(state);
  }

  /** The state with the counters of its running nodes raised to their tallies (a copy if any moved). */
  private withTallies(state: JobState): JobState {
    if (isJobFinal(state)) return state;
    const raised: [string, NodeState][] = [];
    for (const name of state.nodes.active) {
      const n = state.nodes.get(name) as NodeState;
      const t = this.tallies.get(state.jobId, name);
      if (t.succeeded <= n.succeeded && t.failed <= n.failed && t.stopped <= n.stopped) continue;
      raised.push([name, raisedToTally(n, { succeeded: t.succeeded, failed: t.failed, stopped: t.stopped })]);
    }
    return raised.length ? { ...state, nodes: state.nodes.withAll(raised) } : state;
  }

  private remember(state: JobState): void {
    if (isJobFinal(state)) {
      this.states.delete(state.jobId);
      this.tallies.forget(state.jobId);
      return;
    }
    this.states.set(state.jobId, state);
  }

  async saveJob(state: JobState, expectedVersion: number, changed?: readonly string[]): Promise<boolean> {
    this.d.batch();
    const r = this.d
      .sql(
        'UPDATE jobs SET status = ?, finished_at = ?, version = ?, state = ? WHERE job_id = ? AND version = ?',
      )
      .run(
        state.status,
        state.finishedAt ?? null,
        state.version,
        jobStateText(state),
        state.jobId,
        expectedVersion,
      );
    if (r.changes !== 1) return false;
    this.nodes.write(state, changed);
    this.remember(state);
    return true;
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
    const rows = this.d.db
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
    const rows = this.d
      .sql("SELECT * FROM jobs WHERE status IN ('pending', 'active') ORDER BY created_at, rowid")
      .all() as Row[];
    return Promise.all(rows.map(async (r) => this.withTallies(await this.rowToJob(r))));
  }

  async countActiveJobs(pipelineName: string): Promise<number> {
    const r = this.d
      .sql("SELECT COUNT(*) AS n FROM jobs WHERE pipeline_name = ? AND status = 'active'")
      .get(pipelineName) as Row;
    return Number(r.n);
  }

  async countAdmittedUnfinished(pipelineName: string): Promise<number> {
    // `admitted` lives in the state JSON: no column (and no migration) for it.
    const r = this.d
      .sql(
        `SELECT COUNT(*) AS n FROM jobs WHERE pipeline_name = ? AND status IN ('pending', 'active')
         AND json_extract(state, '$.admitted') = 1`,
      )
      .get(pipelineName) as Row;
    return Number(r.n);
  }

  async markFinishing(jobId: string, since: number): Promise<void> {
    this.d.batch();
    this.d
      .sql(
        'INSERT INTO job_finishing (job_id, since) VALUES (?, ?) ON CONFLICT(job_id) DO UPDATE SET since = excluded.since',
      )
      .run(jobId, since);
  }

  async finishingJobs(): Promise<{ jobId: string; since: number }[]> {
    const rows = this.d.sql('SELECT job_id, since FROM job_finishing ORDER BY since').all() as Row[];
    return rows.map((r) => ({ jobId: String(r.job_id), since: Number(r.since) }));
  }

  async clearFinishing(jobId: string): Promise<void> {
    this.d.batch();
    this.d.sql('DELETE FROM job_finishing WHERE job_id = ?').run(jobId);
  }

  async saveResults(jobId: string, results: unknown): Promise<void> {
    const e = await this.d.encode(results, `jobs/${jobId}/results.json`);
    this.d.batch();
    this.d.sql('UPDATE jobs SET results = ?, results_blob = ? WHERE job_id = ?').run(e.text, e.blob, jobId);
  }

  async getResults(jobId: string): Promise<unknown | undefined> {
    const r = this.d.sql('SELECT results, results_blob FROM jobs WHERE job_id = ?').get(jobId) as
      | Row
      | undefined;
    return r ? this.d.decode(r.results, r.results_blob) : undefined;
  }
}
