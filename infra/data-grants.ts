// The exact DynamoDB, S3 and SQS actions Sluice's roles get, instead of CDK's grantReadWrite*
// (which adds Scan, streams, ConditionCheckItem, DescribeTable, object ACLs, retention, legal
// holds and deletes that no Sluice code calls). test/integration/aws/iam-calls.test.ts checks
// every action granted here against the calls the code makes.

import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { BLOB_KEY_PREFIX } from '../shared/adapters/aws/s3-blob-store.ts';

/**
 * The item reads and writes the adapters make on each table (shared/adapters/aws/dynamo/*):
 * tasks are created in batches and then only updated; registry items are put, updated and
 * deleted one by one. Query also covers the table's GSIs. TransactWriteItems is not used.
 */
export const TABLE_ACTIONS = {
  jobs: {
    read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
    write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
  },
  tasks: {
    read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
    write: ['dynamodb:UpdateItem', 'dynamodb:BatchWriteItem'],
  },
  registry: {
    read: ['dynamodb:GetItem', 'dynamodb:Query'],
    write: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  },
} as const;
export type TableName = keyof typeof TABLE_ACTIONS;

/**
 * The registry items the runtime writes, by partition key: webhook deliveries (`HOOK#<jobId>`),
 * the per-algorithm maxWorkers semaphores (`SLOTS`), the workers' activity reports (`WORKERS`) and
 * the tasks workers hand to `sluice debug` sessions (`DEBUG#<algorithm>`). Stored pipelines
 * (`PIPELINE`), algorithms (`ALGORITHM`) and the debug sessions themselves (`DEBUG`) are written
 * by the api function only.
 */
export const REGISTRY_RUNTIME_KEYS = ['HOOK#*', 'SLOTS', 'WORKERS', 'DEBUG#*'];

export type TableAccess = 'read' | 'write';

/** Reads, and with `write` item writes, on the `name` table and its indexes. */
export function grantTable(
  grantee: iam.IGrantable,
  name: TableName,
  table: ITable,
  access: TableAccess,
): void {
  const { read, write } = TABLE_ACTIONS[name];
  table.grant(grantee, ...read, ...(access === 'write' ? write : []));
}

/** Reads of the registry, and writes of its runtime items only (REGISTRY_RUNTIME_KEYS). */
export function grantRegistryRuntime(grantee: iam.IGrantable, registry: ITable): void {
  registry.grant(grantee, ...TABLE_ACTIONS.registry.read);
  iam.Grant.addToPrincipal({
    grantee,
    actions: [...TABLE_ACTIONS.registry.write],
    resourceArns: [registry.tableArn],
    conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': REGISTRY_RUNTIME_KEYS } },
  });
}

/** Get and put of the engine's blobs (results, large inputs, outcomes): never list or delete. */
export function grantBlobs(grantee: iam.IGrantable, bucket: IBucket): void {
  grantObjects(grantee, bucket, BLOB_KEY_PREFIX, ['s3:GetObject', 's3:PutObject']);
}

/** Exactly these S3 object actions on the keys under `prefix` of `bucket`. */
export function grantObjects(
  grantee: iam.IGrantable,
  bucket: IBucket,
  prefix: string,
  actions: string[],
): void {
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [bucket.arnForObjects(`${prefix}*`)] });
}

/** Exactly these SQS actions on these queues. */
export function grantQueues(grantee: iam.IGrantable, queues: IQueue[], actions: string[]): void {
  if (queues.length === 0) return;
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: queues.map((q) => q.queueArn) });
}
