// A state file written by an engine before schema 3 (node states inside the job's JSON) is
// converted when opened: the job reads back with every node, and the next event saves normally.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { expect, it } from 'vitest';
import { FileBlobStore } from '../../../shared/adapters/local/file-blob-store.ts';
import { SCHEMA } from '../../../shared/adapters/local/sqlite/schema.ts';
import { openSqliteState } from '../../../shared/adapters/local/sqlite/sqlite-state.ts';
import { transition } from '../../../shared/engine/transitions.ts';
import { buildDag, validatePipeline } from '../../../shared/pipeline/index.ts';
import { changedNodes, type JobState } from '../../../shared/ports/job-state.ts';

it('moves node states out of an old file’s job rows when it is opened', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-migrate-'));
  try {
    const file = join(dir, 'sluice.db');
    const pipeline = validatePipeline({
      name: 'old',
      nodes: [
        { nodeName: 'a b', algorithmName: 'echo', input: [1] },
        { nodeName: 'c', algorithmName: 'echo', input: ['@a b'] },
      ],
    });
    const node = {
      status: 'pending',
      batch: false,
      created: 0,
      succeeded: 0,
      failed: 0,
      stopped: 0,
      retried: 0,
    };
    const old = new Database(file);
    old.exec(SCHEMA);
    old.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', '2')").run();
    old
      .prepare(
        `INSERT INTO jobs (job_id, pipeline_name, status, priority, created_at, version, state, pipeline)
         VALUES ('j1', 'old', 'pending', 3, 1, 4, ?, ?)`,
      )
      .run(
        JSON.stringify({
          jobId: 'j1',
          status: 'pending',
          nodes: { 'a b': { ...node, status: 'succeeded', succeeded: 1 }, c: node },
          createdAt: 1,
          admitted: true,
          version: 4,
        }),
        JSON.stringify(pipeline),
      );
    old.close();

    const s = openSqliteState(file, new FileBlobStore(join(dir, 'blobs')));
    const job = (await s.jobs.getJob('j1')) as JobState;
    expect(job.nodes.names).toEqual(['a b', 'c']);
    expect(job.nodes.get('a b')).toMatchObject({ status: 'succeeded', succeeded: 1 });
    const t = transition(job, buildDag(pipeline), { type: 'taskRetried', node: 'c', at: 2 });
    expect(await s.jobs.saveJob(t.state, job.version, changedNodes(job, t.state))).toBe(true);
    s.database.close();

    const again = openSqliteState(file, new FileBlobStore(join(dir, 'blobs')));
    const read = (await again.jobs.getJob('j1')) as JobState;
    expect(read.nodes.get('c')?.retried).toBe(1);
    expect(read.nodes.get('a b')?.status).toBe('succeeded');
    const row = again.database.db.prepare("SELECT state FROM jobs WHERE job_id = 'j1'").get() as {
      state: string;
    };
    expect(JSON.parse(row.state).nodes).toBeUndefined();
    again.database.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
