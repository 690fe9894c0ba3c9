// The embedded backend's tables. One SQLite file (WAL) holds jobs, tasks (which double as the
// queue), stored pipelines and algorithms, and webhook deliveries.

export const SCHEMA_VERSION = 3;

/**
 * Columns added after version 1, added to an older file when it is opened (an old engine reading a
 * newer file ignores them). Version 2: tasks.failure, the typed failure as JSON. Version 3: node
 * states in job_nodes, one row per node (see job-nodes.ts), no longer inside jobs.state.
 */
export const ADDED_COLUMNS: readonly { table: string; column: string; type: string }[] = [
  { table: 'tasks', column: 'failure', type: 'TEXT' },
];

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  job_id TEXT PRIMARY KEY,
  pipeline_name TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  finished_at INTEGER,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  pipeline TEXT NOT NULL,
  pipeline_blob TEXT,
  results TEXT,
  results_blob TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_pipeline ON jobs (pipeline_name, created_at);
CREATE TABLE IF NOT EXISTS job_nodes (
  job_id TEXT NOT NULL,
  node_name TEXT NOT NULL,
  state TEXT NOT NULL,
  PRIMARY KEY (job_id, node_name)
);
CREATE TABLE IF NOT EXISTS tasks (
  task_id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  node_name TEXT NOT NULL,
  batch_index INTEGER,
  algorithm_name TEXT NOT NULL,
  pipeline_name TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  eff_priority INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  input TEXT,
  input_blob TEXT,
  result TEXT,
  result_blob TEXT,
  error TEXT,
  failure TEXT,
  logs TEXT,
  queued_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER
);
CREATE INDEX IF NOT EXISTS tasks_queue ON tasks (eff_priority DESC, seq) WHERE status = 'queued';
CREATE INDEX IF NOT EXISTS tasks_by_node ON tasks (job_id, node_name, batch_index);
CREATE INDEX IF NOT EXISTS tasks_active ON tasks (algorithm_name) WHERE status = 'active';
CREATE INDEX IF NOT EXISTS tasks_queued_alg ON tasks (algorithm_name) WHERE status = 'queued';
CREATE TABLE IF NOT EXISTS pipelines (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS algorithms (name TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS algorithm_versions (
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS webhooks (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  url TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  response_status INTEGER,
  error TEXT,
  payload TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS job_finishing (job_id TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS webhooks_by_job ON webhooks (job_id, kind);
CREATE INDEX IF NOT EXISTS webhooks_pending ON webhooks (status) WHERE status = 'pending';
`;
