// One page of a node's tasks on DynamoDB without reading the node: its items are spread over
// TASK_SHARDS partitions, each sorted by batchIndex, so a page is a k-way merge that reads each
// shard a little at a time and stops once the page is certain (no unread item can come before it).
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { TaskPageQuery } from '../../../ports/tasks.ts';
import { TASK_SHARDS } from '../dynamo-schema.ts';
import type { Item } from './items.ts';

/** The attributes of a page of table rows: everything but the values (input, result, logs). */
const SUMMARY =
  'pk, sk, taskId, jobId, nodeName, batchIndex, algorithmName, pipelineName, priority, queuedAt, #s, attempts, #e, failure, startedAt, finishedAt';

interface Shard {
  pk: string;
  items: Item[];
  /** Where the next read starts; undefined once the shard is read to its end. */
  next?: Record<string, unknown>;
  /** The largest batchIndex read (or filtered out) so far. */
  seen: number;
  done: boolean;
}

export async function pageShards(
  client: DynamoDBDocumentClient,
  table: string,
  jobId: string,
  nodeName: string,
  q: TaskPageQuery,
): Promise<Item[]> {
  // With evenly spread items (a batch's indices are consecutive) one read per shard fills the page.
  const perRead = Math.ceil(q.limit / TASK_SHARDS) + 1;
  const names: Record<string, string> = {
    ...(q.status ? { '#s': 'status' } : {}),
    ...(q.summary ? { '#s': 'status', '#e': 'error' } : {}),
  };
  const read = async (s: Shard) => {
    const r = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: q.after !== undefined ? 'pk = :pk AND sk > :after' : 'pk = :pk',
        ExpressionAttributeValues: {
          ':pk': s.pk,
          ...(q.after !== undefined ? { ':after': q.after } : {}),
          ...(q.status ? { ':status': q.status } : {}),
        },
        ...(q.status ? { FilterExpression: '#s = :status' } : {}),
        ...(q.summary ? { ProjectionExpression: SUMMARY } : {}),
        ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
        ConsistentRead: true,
        Limit: perRead,
        ...(s.next ? { ExclusiveStartKey: s.next } : {}),
      }),
    );
    s.items.push(...((r.Items ?? []) as Item[]));
    s.next = r.LastEvaluatedKey;
    s.done = !s.next;
    if (s.next) s.seen = Number(s.next.sk);
  };
  const shards: Shard[] = Array.from({ length: TASK_SHARDS }, (_, k) => ({
    pk: `T#${jobId}#${nodeName}#${k}`,
    items: [],
    seen: Number.NEGATIVE_INFINITY,
    done: false,
  }));
  let pending = shards;
  for (;;) {
    await Promise.all(pending.map(read));
    const open = shards.filter((s) => !s.done);
    // Every item up to the smallest position an unfinished shard reached is known.
    const bound = Math.min(...open.map((s) => s.seen));
    const known = shards
      .flatMap((s) => s.items)
      .filter((i) => Number(i.sk) <= bound)
      .sort((a, b) => Number(a.sk) - Number(b.sk));
    if (known.length >= q.limit || open.length === 0) return known.slice(0, q.limit);
    pending = open.filter((s) => s.seen === bound);
  }
}
