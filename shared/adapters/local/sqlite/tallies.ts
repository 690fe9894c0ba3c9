// Node tallies on SQLite: the finished tasks of each node, counted in memory as tasks finish and
// seeded from the task rows the first time a job is seen (one GROUP BY per job and process). One
// engine process owns a state directory (engine.lock), and the seed reads the same connection
// that wrote the rows, so the counts are exact; evicting a job only costs another seed.
import type { TaskOutcomeKind } from '../../../ports/job-state.ts';
import type { NodeTally } from '../../../ports/tasks.ts';
import type { Row, SqliteDatabase } from './database.ts';

/** Jobs whose tallies are kept; the least recently seeded goes first. */
const MAX_JOBS = 1000;

export class SqliteTallies {
  private readonly jobs = new Map<string, Map<string, NodeTally>>();

  constructor(private readonly d: SqliteDatabase) {}

  /** The job's tallies, seeded from its rows if not known yet. */
  private of(jobId: string): Map<string, NodeTally> {
    let nodes = this.jobs.get(jobId);
    if (nodes) return nodes;
    nodes = new Map();
    const rows = this.d
      .sql(
        `SELECT node_name, status, COUNT(*) AS n FROM tasks
         WHERE job_id = ? AND status IN ('succeeded', 'failed', 'stopped') GROUP BY node_name, status`,
      )
      .all(jobId) as Row[];
    for (const r of rows) {
      const t = tallyOf(nodes, String(r.node_name));
      t[r.status as TaskOutcomeKind] += Number(r.n);
    }
    this.jobs.set(jobId, nodes);
    if (this.jobs.size > MAX_JOBS) this.jobs.delete(this.jobs.keys().next().value as string);
    return nodes;
  }

  /**
   * Counts a task whose row was just written as finished (synchronously after the write, so a
   * seed that reads the rows already includes it and must not add it again).
   */
  count(jobId: string, node: string, outcome: TaskOutcomeKind): NodeTally {
    const known = this.jobs.has(jobId);
    const t = tallyOf(this.of(jobId), node);
    if (known) t[outcome]++;
    return { ...t };
  }

  /** The node's tally (zero if nothing finished). */
  get(jobId: string, node: string): NodeTally {
    return { ...tallyOf(this.of(jobId), node) };
  }

  /** Forgets a job's tallies; the next use seeds them again from the rows. */
  forget(jobId: string): void {
    this.jobs.delete(jobId);
  }
}

function tallyOf(nodes: Map<string, NodeTally>, node: string): NodeTally {
  let t = nodes.get(node);
  if (!t) {
    t = { succeeded: 0, failed: 0, stopped: 0 };
    nodes.set(node, t);
  }
  return t;
}
