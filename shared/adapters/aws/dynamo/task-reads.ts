// Reading task items on DynamoDB: one item per task under T#<jobId>#<node>#<shard>, sorted by
// batchIndex, so a node's items are TASK_SHARDS strongly consistent queries merged in order.
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { loadValue } from '../../../engine/stored-values.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import type { TaskStatus } from '../../../ports/job-state.ts';
import { parseTaskFailure } from '../../../ports/task-failure.ts';
import { parseTaskLogs } from '../../../ports/task-logs.ts';
import type {
  ItemResult,
  TaskLeaseReader,
  TaskPageQuery,
  TaskPageRecord,
  TaskReader,
  TaskRecord,
} from '../../../ports/tasks.ts';
import { TASK_SHARDS } from '../dynamo-schema.ts';
import { type DynamoTables, type Item, queryAll, taskKey, taskPk } from './items.ts';
import { pageShards } from './task-pages.ts';

const RESERVED: Record<string, string> = { '#s': 'status', '#r': 'result', '#e': 'error' };
/** The attribute-name placeholders a projection uses (DynamoDB rejects unused ones). */
const namesIn = (projection: string) =>
  Object.fromEntries(Object.entries(RESERVED).filter(([k]) => projection.includes(k)));

export class DynamoTaskReads implements TaskReader, TaskLeaseReader {
  constructor(
    protected readonly client: DynamoDBDocumentClient,
    protected readonly tables: DynamoTables,
    protected readonly blobs: BlobStore,
    /** A job's node names (they never change once the job exists). */
    protected readonly nodeNames: (jobId: string) => Promise<string[]>,
  ) {}

  /** An item without its values (input, result, logs), as a page of table rows has it. */
  protected itemToSummary(i: Item): TaskPageRecord {
    const failure = typeof i.failure === 'string' ? parseTaskFailure(JSON.parse(i.failure)) : undefined;
    return {
      taskId: String(i.taskId),
      jobId: String(i.jobId),
      nodeName: String(i.nodeName),
      ...(i.batchIndex !== undefined ? { batchIndex: Number(i.batchIndex) } : {}),
      algorithmName: String(i.algorithmName),
      pipelineName: String(i.pipelineName),
      priority: Number(i.priority),
      queuedAt: Number(i.queuedAt),
      status: i.status as TaskStatus,
      attempts: Number(i.attempts ?? 0),
      ...(i.error !== undefined ? { error: String(i.error) } : {}),
      ...(failure ? { failure } : {}),
      ...(i.startedAt !== undefined ? { startedAt: Number(i.startedAt) } : {}),
      ...(i.finishedAt !== undefined ? { finishedAt: Number(i.finishedAt) } : {}),
    };
  }

  protected async itemToTask(i: Item): Promise<TaskRecord> {
    const result = await loadValue(this.blobs, i.result, i.resultBlob);
    const logs = i.logs !== undefined ? parseTaskLogs(i.logs) : undefined;
    return {
      ...this.itemToSummary(i),
      input: ((await loadValue(this.blobs, i.input, i.inputBlob)) ?? []) as unknown[],
      ...(result !== undefined ? { result } : {}),
      ...(logs ? { logs } : {}),
    };
  }

  private async itemToResult(i: Item): Promise<ItemResult> {
    const result = await loadValue(this.blobs, i.result, i.resultBlob);
    return {
      ...(i.batchIndex !== undefined ? { batchIndex: Number(i.batchIndex) } : {}),
      status: i.status as TaskStatus,
      ...(result !== undefined ? { result } : {}),
      ...(i.error !== undefined ? { error: String(i.error) } : {}),
    };
  }

  /** A node's items in batchIndex order (optionally only some attributes). */
  protected async nodeItems(jobId: string, node: string, projection?: string): Promise<Item[]> {
    const shards = await Promise.all(
      Array.from({ length: TASK_SHARDS }, (_, k) =>
        queryAll(this.client, {
          TableName: this.tables.tasks,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `T#${jobId}#${node}#${k}` },
          ConsistentRead: true,
          ...(projection
            ? { ProjectionExpression: projection, ExpressionAttributeNames: namesIn(projection) }
            : {}),
        }),
      ),
    );
    return shards.flat().sort((a, b) => Number(a.sk) - Number(b.sk));
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const k = taskKey(taskId);
    const r = await this.client.send(
      new GetCommand({ TableName: this.tables.tasks, Key: { pk: k.pk, sk: k.sk }, ConsistentRead: true }),
    );
    return r.Item ? this.itemToTask(r.Item) : undefined;
  }

  /** BatchGetItem, 100 keys a request (strongly consistent, as getTask). */
  async getTasks(taskIds: string[]): Promise<TaskRecord[]> {
    const items = await this.batchGet(taskIds);
    return Promise.all(items.map((i) => this.itemToTask(i)));
  }

  /** The same read projected to job and status: a wait's look at every task it awaits. */
  async taskStatuses(taskIds: string[]): Promise<Pick<TaskRecord, 'taskId' | 'jobId' | 'status'>[]> {
    const items = await this.batchGet(taskIds, {
      ProjectionExpression: 'taskId, jobId, #s',
      ExpressionAttributeNames: { '#s': 'status' },
    });
    return items.map((i) => ({
      taskId: String(i.taskId),
      jobId: String(i.jobId),
      status: i.status as TaskStatus,
    }));
  }

  private async batchGet(
    taskIds: string[],
    projection?: { ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> },
  ): Promise<Item[]> {
    const items: Item[] = [];
    const ids = [...new Set(taskIds)];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map((id) => {
        const k = taskKey(id);
        return { pk: k.pk, sk: k.sk };
      });
      while (keys.length) {
        const r = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tables.tasks]: { Keys: keys, ConsistentRead: true, ...projection } },
          }),
        );
        items.push(...(r.Responses?.[this.tables.tasks] ?? []));
        keys = (r.UnprocessedKeys?.[this.tables.tasks]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return items;
  }

  /** A task's status and applied attempts (the worker's heartbeat checks for a stop). */
  async taskLease(taskId: string): Promise<{ status: TaskStatus; attempts: number } | undefined> {
    const k = taskKey(taskId);
    const r = await this.client.send(
      new GetCommand({
        TableName: this.tables.tasks,
        Key: { pk: k.pk, sk: k.sk },
        ConsistentRead: true,
        ProjectionExpression: '#s, attempts',
        ExpressionAttributeNames: { '#s': 'status' },
      }),
    );
    if (!r.Item) return undefined;
    return { status: r.Item.status as TaskStatus, attempts: Number(r.Item.attempts ?? 0) };
  }

  async nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]> {
    const items = await this.nodeItems(jobId, nodeName, 'batchIndex, #s, #r, resultBlob, #e, sk');
    return Promise.all(items.map((i) => this.itemToResult(i)));
  }

  async itemResult(jobId: string, nodeName: string, batchIndex: number): Promise<ItemResult | undefined> {
    const r = await this.client.send(
      new GetCommand({
        TableName: this.tables.tasks,
        Key: { pk: taskPk(jobId, nodeName, batchIndex), sk: batchIndex },
        ConsistentRead: true,
      }),
    );
    return r.Item ? this.itemToResult(r.Item) : undefined;
  }

  async listTasks(jobId: string, nodeName?: string): Promise<TaskRecord[]> {
    const nodes = nodeName ? [nodeName] : await this.nodeNames(jobId);
    const out: TaskRecord[] = [];
    for (const n of nodes) for (const i of await this.nodeItems(jobId, n)) out.push(await this.itemToTask(i));
    return out;
  }

  async pageTasks(jobId: string, nodeName: string, q: TaskPageQuery): Promise<TaskPageRecord[]> {
    const items = await pageShards(this.client, this.tables.tasks, jobId, nodeName, q);
    return q.summary
      ? items.map((i) => this.itemToSummary(i))
      : Promise.all(items.map((i) => this.itemToTask(i)));
  }
}
