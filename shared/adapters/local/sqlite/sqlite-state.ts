// The embedded backend's state in one SQLite file: jobs, tasks (which double as the queue), node
// tallies and the registry, over one connection. Values over INLINE_VALUE_LIMIT go to the blob
// store and only their key is kept.
import type { BlobStore } from '../../../ports/blob-store.ts';
import { SqliteDatabase, type SqliteSynchronous } from './database.ts';
import { SqliteJobs } from './jobs.ts';
import { SqliteTaskQueue } from './queue.ts';
import { SqliteRegistry } from './registry.ts';
import { SqliteTallies } from './tallies.ts';
import { SqliteTasks } from './tasks.ts';

export interface SqliteState {
  database: SqliteDatabase;
  jobs: SqliteJobs;
  tasks: SqliteTasks;
  queue: SqliteTaskQueue;
  registry: SqliteRegistry;
}

export function openSqliteState(
  file: string,
  blobs: BlobStore,
  synchronous: SqliteSynchronous = 'full',
): SqliteState {
  const database = new SqliteDatabase(file, blobs, synchronous);
  const tallies = new SqliteTallies(database);
  return {
    database,
    jobs: new SqliteJobs(database, tallies),
    tasks: new SqliteTasks(database, tallies),
    queue: new SqliteTaskQueue(database),
    registry: new SqliteRegistry(database),
  };
}
