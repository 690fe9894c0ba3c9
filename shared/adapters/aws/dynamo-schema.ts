// The DynamoDB tables of the AWS backend: keys, GSIs and the TTL attribute. The CDK stacks and
// `ensureTables` (tests, `sluice serve --backend aws --create`) both read these definitions, so
// the deployed tables and the code that uses them cannot drift apart.
//
// jobs table (pk, sk)
//   JOB#<jobId> / JOB                job record: status, version, state JSON, the nodes its last
//                                    transition changed (delta), pipeline, results
//   JOB#<jobId> / N#<node>           one node's state and the version it was written at
//                                    (dynamo/job-nodes.ts: an event writes only what it changed)
//   TALLY#<jobId>#<node>#<k> / TALLY one of TALLY_SHARDS counter shards of a node (see below)
//   GSIs: byStatus (status, createdAt), byPipeline (pipelineName, createdAt),
//         byDay (day = YYYY-MM-DD, createdAt) for "newest jobs" without a constant hot key.
// tasks table (pk, sk)
//   T#<jobId>#<node>#<k> / <batchIndex>  one item per task; k = batchIndex mod TASK_SHARDS, so
//                                    a 100,000-item node's writes spread over TASK_SHARDS
//                                    partition keys while Query by (job, node) stays strongly
//                                    consistent and ordered by batchIndex.
// registry table (pk, sk)
//   PIPELINE / <name>, ALGORITHM / <name>, HOOK#<jobId> / <kind>#<id> (webhook deliveries),
//   DEBUG / <algorithm> and DEBUG#<algorithm> / <taskId> (`sluice debug` sessions and the tasks
//   handed to them: dynamo/debug-records.ts)
// Every item that belongs to a job carries `ttl` (epoch seconds) once the job is final.
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';

/** Counter shards per node: a 100,000-item fan-in spreads its counter writes over these keys. */
export const TALLY_SHARDS = 8;
/** Partition-key shards of a node's task items. */
export const TASK_SHARDS = 16;
/** Attribute DynamoDB's TTL deletes expired items by (epoch seconds). */
export const TTL_ATTRIBUTE = 'ttl';
/** Final jobs and their tasks are kept this long (SLUICE_RETENTION_DAYS overrides). */
export const DEFAULT_RETENTION_DAYS = 30;

export const GSI = {
  byStatus: 'byStatus',
  byPipeline: 'byPipeline',
  byDay: 'byDay',
} as const;

const keyed = (name: string): Pick<CreateTableCommandInput, 'KeySchema'> & { name: string } => ({
  name,
  KeySchema: [
    { AttributeName: 'pk', KeyType: 'HASH' },
    { AttributeName: 'sk', KeyType: 'RANGE' },
  ],
});

const gsi = (IndexName: string, hash: string) => ({
  IndexName,
  KeySchema: [
    { AttributeName: hash, KeyType: 'HASH' as const },
    { AttributeName: 'createdAt', KeyType: 'RANGE' as const },
  ],
  Projection: {
    ProjectionType: 'INCLUDE' as const,
    NonKeyAttributes: ['jobId', 'pipelineName', 'status', 'priority', 'finishedAt', 'reason', 'admitted'],
  },
});

export function tableDefinitions(names: { jobs: string; tasks: string; registry: string }) {
  return {
    jobs: {
      ...keyed(names.jobs),
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' as const },
        { AttributeName: 'sk', AttributeType: 'S' as const },
        { AttributeName: 'status', AttributeType: 'S' as const },
        { AttributeName: 'pipelineName', AttributeType: 'S' as const },
        { AttributeName: 'day', AttributeType: 'S' as const },
        { AttributeName: 'createdAt', AttributeType: 'N' as const },
      ],
      GlobalSecondaryIndexes: [
        gsi(GSI.byStatus, 'status'),
        gsi(GSI.byPipeline, 'pipelineName'),
        gsi(GSI.byDay, 'day'),
      ],
    },
    tasks: {
      ...keyed(names.tasks),
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' as const },
        { AttributeName: 'sk', AttributeType: 'N' as const },
      ],
    },
    registry: {
      ...keyed(names.registry),
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' as const },
        { AttributeName: 'sk', AttributeType: 'S' as const },
      ],
    },
  };
}

/** Creates the tables if they do not exist (on-demand billing) and waits until they are active. */
export async function ensureTables(
  client: DynamoDBClient,
  names: { jobs: string; tasks: string; registry: string },
): Promise<void> {
  for (const def of Object.values(tableDefinitions(names))) {
    const { name, ...rest } = def;
    try {
      await client.send(new CreateTableCommand({ TableName: name, BillingMode: 'PAY_PER_REQUEST', ...rest }));
    } catch (err) {
      if (!(err instanceof ResourceInUseException)) throw err;
    }
    for (let i = 0; i < 200; i++) {
      const d = await client.send(new DescribeTableCommand({ TableName: name }));
      if (d.Table?.TableStatus === 'ACTIVE') break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
