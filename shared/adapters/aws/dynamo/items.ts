// What the DynamoDB modules share: the tables, the item keys (layout: dynamo-schema.ts), paged
// queries and batched writes, and how a failed condition is told apart.
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TASK_SHARDS } from '../dynamo-schema.ts';

export interface DynamoTables {
  jobs: string;
  tasks: string;
  registry: string;
}

export type Item = Record<string, unknown>;

export const isConditionFailure = (err: unknown) =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException';

export const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
/** Jobs whose after-steps are owed (JobStore.markFinishing): one small partition, read by the sweep. */
export const finishingKey = (jobId: string) => ({ pk: 'FINISHING', sk: jobId });

export const tallyKey = (jobId: string, node: string, shard: number) => ({
  pk: `TALLY#${jobId}#${node}#${shard}`,
  sk: 'TALLY',
});

export const taskPk = (jobId: string, node: string, batchIndex: number | undefined) =>
  `T#${jobId}#${node}#${(batchIndex ?? 0) % TASK_SHARDS}`;

/** The key of a task item, from its id `<jobId>.<node>[.<batchIndex>]` (ids contain no other '.'). */
export function taskKey(taskId: string): { pk: string; sk: number; jobId: string; node: string } {
  const parts = taskId.split('.');
  const jobId = parts[0] ?? '';
  const node = parts[1] ?? '';
  const batchIndex = parts.length > 2 ? Number(parts[2]) : undefined;
  return { pk: taskPk(jobId, node, batchIndex), sk: batchIndex ?? 0, jobId, node };
}

/** Every item of a query, page after page (stops once `limit` items are in). */
export async function queryAll(
  client: DynamoDBDocumentClient,
  input: QueryCommandInput,
  limit = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await client.send(
      new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    out.push(...((r.Items ?? []) as Item[]));
    start = r.LastEvaluatedKey;
  } while (start && out.length < limit);
  return out;
}

/** Writes items 25 per request, 16 requests in flight (a 100,000-task expansion is ~4,000). */
export async function batchPut(client: DynamoDBDocumentClient, table: string, items: Item[]): Promise<void> {
  const chunks: Item[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++] as Item[];
      let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; requests.length; attempt++) {
        const r = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
        if (requests.length) await new Promise((res) => setTimeout(res, Math.min(1000, 20 * 2 ** attempt)));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(16, chunks.length) }, lane));
}

/** Items of a finished job expire this long after it finished (epoch seconds, see TTL_ATTRIBUTE). */
export class Retention {
  readonly seconds: number;
  constructor(days: number) {
    this.seconds = days * 86_400;
  }
  expiry(at: number): number {
    return Math.floor(at / 1000) + this.seconds;
  }
}
