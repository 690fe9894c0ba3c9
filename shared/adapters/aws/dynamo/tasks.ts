// TaskStore on DynamoDB. A task's item is the source of truth for its status, and an outcome
// applies to it at most once per attempt (a conditional write), so a duplicate or late status
// message changes nothing and counts nothing; only the caller whose write succeeded counts the
// task in its node's tally (tallies.ts).
import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { storeValue, taskBlobKey } from '../../../engine/stored-values.ts';
import { taskIdentity } from '../../../engine/task-identity.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import { capTaskLogs, hasOutput } from '../../../ports/task-logs.ts';
import type { NewTask, NodeCounts, NodeTally, TaskFinish, TaskStore } from '../../../ports/tasks.ts';
import { TALLY_SHARDS } from '../dynamo-schema.ts';
import {
  batchPut,
  type DynamoTables,
  type Item,
  isConditionFailure,
  type Retention,
  taskKey,
} from './items.ts';
import type { DynamoTallies } from './tallies.ts';
import { DynamoTaskReads } from './task-reads.ts';

/** Characters of logs kept in a task item (a DynamoDB item holds at most 400 KB in all). */
const MAX_LOG_CHARS = 64 * 1024;

export interface DynamoTasksOptions {
  client: DynamoDBDocumentClient;
  tables: DynamoTables;
  blobs: BlobStore;
  /** A job's node names (they never change once the job exists). */
  nodeNames: (jobId: string) => Promise<string[]>;
  tallies: DynamoTallies;
  retention: Retention;
}

export class DynamoTasks extends DynamoTaskReads implements TaskStore {
  private readonly tallies: DynamoTallies;
  private readonly retention: Retention;

  constructor(opts: DynamoTasksOptions) {
    super(opts.client, opts.tables, opts.blobs, opts.nodeNames);
    this.tallies = opts.tallies;
    this.retention = opts.retention;
  }

  /**
   * Inserts tasks that do not exist yet. Existence is read in batches of 100 first, then the new
   * ones are written 25 at a time (BatchWrite is not conditional; task ids are deterministic and
   * one node is expanded by one transition at a time, so the read-then-write race cannot occur
   * within a job).
   */
  async insertTasks(tasks: NewTask[]): Promise<number> {
    if (tasks.length === 0) return 0;
    // A node with no task created yet needs no existence check (the common, first expansion).
    const nodes = new Map<string, { jobId: string; node: string }>();
    for (const t of tasks) nodes.set(`${t.jobId}#${t.nodeName}`, { jobId: t.jobId, node: t.nodeName });
    const untouched = new Set<string>();
    for (const { jobId, node } of nodes.values()) {
      if ((await this.tallies.tallies(jobId, [node])).get(node)?.created === 0)
        untouched.add(`${jobId}#${node}`);
    }
    const exists = await this.existing(tasks.filter((t) => !untouched.has(`${t.jobId}#${t.nodeName}`)));
    const fresh = tasks.filter((t) => !exists.has(t.taskId));
    const items: Item[] = [];
    for (const t of fresh) {
      const k = taskKey(t.taskId);
      const input = await storeValue(this.blobs, t.input, () => taskBlobKey(t.jobId, t.taskId, 'input'));
      items.push({
        pk: k.pk,
        sk: k.sk,
        taskId: t.taskId,
        ...taskIdentity(t),
        status: 'queued',
        attempts: 0,
        // Backstop expiry for a task that never finishes; a finish sets finish + retention.
        ttl: this.retention.expiry(t.queuedAt) + this.retention.seconds,
        ...(input.text !== undefined ? { input: input.text } : { inputBlob: input.blob }),
      });
    }
    await batchPut(this.client, this.tables.tasks, items);
    const perShard = new Map<string, { jobId: string; node: string; shard: number; n: number }>();
    for (const t of fresh) {
      const shard = (t.batchIndex ?? 0) % TALLY_SHARDS;
      const id = `${t.jobId}#${t.nodeName}#${shard}`;
      const e = perShard.get(id) ?? { jobId: t.jobId, node: t.nodeName, shard, n: 0 };
      e.n++;
      perShard.set(id, e);
    }
    await this.tallies.created([...perShard.values()]);
    return fresh.length;
  }

  /** The ids of those tasks whose item exists. */
  private async existing(tasks: NewTask[]): Promise<Set<string>> {
    const exists = new Set<string>();
    for (let i = 0; i < tasks.length; i += 100) {
      let keys: Record<string, unknown>[] = tasks.slice(i, i + 100).map((t) => {
        const k = taskKey(t.taskId);
        return { pk: k.pk, sk: k.sk };
      });
      while (keys.length) {
        const r = await this.client.send(
          new BatchGetCommand({
            RequestItems: {
              [this.tables.tasks]: { Keys: keys, ProjectionExpression: 'taskId', ConsistentRead: true },
            },
          }),
        );
        for (const it of r.Responses?.[this.tables.tasks] ?? []) exists.add(String(it.taskId));
        keys = (r.UnprocessedKeys?.[this.tables.tasks]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return exists;
  }

  /**
   * The outcome's conditions: with an `attempt` (the SQS message is the lease, the item stays
   * `queued` while it runs) at most one outcome per attempt applies; otherwise the task must be
   * `active` (a claimer that marks tasks active itself).
   */
  private outcomeCondition(attempt: number | undefined, values: Record<string, unknown>): string {
    values[':active'] = 'active';
    if (attempt === undefined) return '#s = :active';
    values[':queued'] = 'queued';
    values[':attempt'] = attempt;
    return '(#s = :active OR #s = :queued) AND (attribute_not_exists(attempts) OR attempts < :attempt)';
  }

  /** Writes a task's outcome (the first half of finishTask); false if it did not apply. */
  async writeFinish(taskId: string, f: TaskFinish): Promise<boolean> {
    const k = taskKey(taskId);
    const res = await storeValue(this.blobs, f.result, () => taskBlobKey(k.jobId, taskId, 'result'));
    const sets = ['#s = :status', 'finishedAt = :at', '#ttl = :ttl'];
    const values: Record<string, unknown> = {
      ':status': f.status,
      ':at': f.at,
      ':ttl': this.retention.expiry(f.at),
    };
    const names: Record<string, string> = { '#s': 'status', '#ttl': 'ttl' };
    const condition = this.outcomeCondition(f.attempt, values);
    const set = (attr: string, value: unknown, name?: string) => {
      if (name) names[`#${name}`] = name;
      sets.push(`${name ? `#${name}` : attr} = :${attr}`);
      values[`:${attr}`] = value;
    };
    if (f.attempt !== undefined) set('attempts', f.attempt);
    if (f.startedAt !== undefined) set('startedAt', f.startedAt);
    if (res.text !== undefined) set('result', res.text, 'result');
    if (res.blob !== undefined) set('resultBlob', res.blob);
    if (f.error !== undefined) set('error', f.error, 'error');
    if (f.failure !== undefined) set('failure', JSON.stringify(f.failure));
    // An item holds at most 400 KB: the logs keep their tails within a fixed share of it.
    if (hasOutput(f.logs)) set('logs', JSON.stringify(capTaskLogs(f.logs, MAX_LOG_CHARS)));
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.tasks,
          Key: { pk: k.pk, sk: k.sk },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async finishTask(taskId: string, f: TaskFinish): Promise<NodeTally | undefined> {
    if (!(await this.writeFinish(taskId, f))) return undefined;
    const k = taskKey(taskId);
    return this.tallies.count(k.jobId, k.node, f.status);
  }

  async requeueTask(taskId: string, at: number, attempt?: number): Promise<boolean> {
    const k = taskKey(taskId);
    const values: Record<string, unknown> = { ':queued': 'queued', ':at': at };
    const condition = this.outcomeCondition(attempt, values);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.tasks,
          Key: { pk: k.pk, sk: k.sk },
          UpdateExpression: `SET #s = :queued, queuedAt = :at${attempt !== undefined ? ', attempts = :attempt' : ''} REMOVE startedAt`,
          ConditionExpression: condition,
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async stopTasks(jobId: string, reason: string, at: number): Promise<string[]> {
    const active: string[] = [];
    for (const node of await this.nodeNames(jobId)) {
      const items = await this.nodeItems(jobId, node, 'pk, sk, taskId, #s, batchIndex');
      const open = items.filter((i) => i.status === 'queued' || i.status === 'active');
      await Promise.all(
        open.map(async (i) => {
          try {
            await this.client.send(
              new UpdateCommand({
                TableName: this.tables.tasks,
                Key: { pk: i.pk, sk: i.sk },
                UpdateExpression: 'SET #s = :stopped, #error = :reason, finishedAt = :at, #ttl = :ttl',
                ConditionExpression: '#s = :was',
                ExpressionAttributeNames: { '#s': 'status', '#error': 'error', '#ttl': 'ttl' },
                ExpressionAttributeValues: {
                  ':ttl': this.retention.expiry(at),
                  ':stopped': 'stopped',
                  ':reason': reason,
                  ':at': at,
                  ':was': i.status,
                },
              }),
            );
            if (i.status === 'active') active.push(String(i.taskId));
          } catch (err) {
            if (!isConditionFailure(err)) throw err;
          }
        }),
      );
    }
    return active;
  }

  /**
   * Per-node counts from the tallies (cheap at any batch size). `active` is not counted (it
   * would cost a write per task start); it shows as queued until the task finishes.
   */
  async nodeCounts(jobId: string, opts: { maxAgeMs?: number } = {}): Promise<Record<string, NodeCounts>> {
    const out: Record<string, NodeCounts> = {};
    const names = await this.nodeNames(jobId);
    const tallies = opts.maxAgeMs
      ? await this.tallies.recentTallies(jobId, names, opts.maxAgeMs)
      : await this.tallies.tallies(jobId, names);
    for (const [node, t] of tallies) {
      if (t.created === 0) continue;
      const done = t.succeeded + t.failed + t.stopped;
      out[node] = { ...t, queued: Math.max(0, t.created - done), active: 0 };
    }
    return out;
  }

  async rebuildTallies(jobId: string): Promise<void> {
    for (const node of await this.nodeNames(jobId)) {
      await this.tallies.rebuild(jobId, node, await this.nodeItems(jobId, node, '#s, batchIndex'));
    }
  }

  async copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void> {
    for (const n of nodeNames) {
      const copies = (await this.nodeItems(fromJobId, n)).map((i) => {
        const taskId = `${toJobId}${String(i.taskId).slice(fromJobId.length)}`;
        return { ...i, pk: taskKey(taskId).pk, taskId, jobId: toJobId };
      });
      await batchPut(this.client, this.tables.tasks, copies);
    }
    await this.rebuildTallies(toJobId);
  }
}
