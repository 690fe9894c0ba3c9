// The node states of a job on SQLite: one row per node, beside the job row. A transition touches
// one or two nodes, so saving it writes those rows only; re-writing every node per event made a
// 10,000-node pipeline cost minutes to submit (quadratic in nodes).
import type { JobState, NodeState } from '../../../ports/job-state.ts';
import { NodeStates } from '../../../ports/node-states.ts';
import type { Row, SqliteDatabase } from './database.ts';

export class SqliteJobNodes {
  constructor(private readonly d: SqliteDatabase) {}

  /** Writes the named nodes of `state` (every node when `names` is omitted). Inside a batch. */
  write(state: JobState, names?: readonly string[]): void {
    const st = this.d.sql(
      `INSERT INTO job_nodes (job_id, node_name, state) VALUES (?, ?, ?)
       ON CONFLICT (job_id, node_name) DO UPDATE SET state = excluded.state`,
    );
    for (const name of names ?? state.nodes.names) {
      const n = state.nodes.get(name);
      if (n) st.run(state.jobId, name, JSON.stringify(n));
    }
  }

  /** The job's node states, in the order they were created (the DAG's order). */
  read(jobId: string): NodeStates {
    const rows = this.d
      .sql('SELECT node_name, state FROM job_nodes WHERE job_id = ? ORDER BY rowid')
      .all(jobId) as Row[];
    return NodeStates.of(rows.map((r) => [String(r.node_name), JSON.parse(String(r.state)) as NodeState]));
  }
}

/**
 * Schema version 3 moved node states out of the job's JSON into job_nodes: a file written by an
 * older engine is converted when opened (one statement per table, in one transaction).
 */
export const MOVE_NODES_OUT_OF_JOBS = `
INSERT OR IGNORE INTO job_nodes (job_id, node_name, state)
  SELECT j.job_id, e.key, e.value FROM jobs j, json_each(j.state, '$.nodes') e
  WHERE json_type(j.state, '$.nodes') = 'object';
UPDATE jobs SET state = json_remove(state, '$.nodes') WHERE json_type(state, '$.nodes') = 'object';
`;
