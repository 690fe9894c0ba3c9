// The AWS backend's state in DynamoDB (layout: dynamo-schema.ts): jobs, tasks, node tallies, the
// registry, the maxWorkers semaphore and debug sessions, over one document client. Values over
// INLINE_VALUE_LIMIT go to the blob store (S3) and only their key is kept.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { BlobStore } from '../../../ports/blob-store.ts';
import { DEFAULT_RETENTION_DAYS } from '../dynamo-schema.ts';
import { DynamoDebugRecords } from './debug-records.ts';
import { type DynamoTables, Retention } from './items.ts';
import { DynamoJobs } from './jobs.ts';
import { DynamoRegistry } from './registry.ts';
import { DynamoSlots } from './slots.ts';
import { DynamoTallies } from './tallies.ts';
import { DynamoTasks } from './tasks.ts';

export type { DynamoTables } from './items.ts';

export interface DynamoStateOptions {
  client: DynamoDBDocumentClient;
  tables: DynamoTables;
  blobs: BlobStore;
  retentionDays?: number;
}

export interface DynamoState {
  jobs: DynamoJobs;
  tasks: DynamoTasks;
  tallies: DynamoTallies;
  registry: DynamoRegistry;
  slots: DynamoSlots;
  /** `sluice debug` sessions and the tasks handed to them. */
  debug: DynamoDebugRecords;
}

export function openDynamoState(opts: DynamoStateOptions): DynamoState {
  const { client, tables, blobs } = opts;
  const retention = new Retention(opts.retentionDays ?? DEFAULT_RETENTION_DAYS);
  const tallies = new DynamoTallies(client, tables.jobs, retention);
  const jobs = new DynamoJobs(client, tables, blobs, tallies, retention);
  const tasks = new DynamoTasks({
    client,
    tables,
    blobs,
    nodeNames: (jobId) => jobs.nodeNames(jobId),
    tallies,
    retention,
  });
  return {
    jobs,
    tasks,
    tallies,
    registry: new DynamoRegistry(client, tables.registry),
    slots: new DynamoSlots(client, tables.registry),
    debug: new DynamoDebugRecords(client, tables.registry, blobs),
  };
}
