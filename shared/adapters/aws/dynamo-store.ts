// JobStore on DynamoDB. Every state change is a conditional write, so a duplicate or late message
// is a no-op. Layout and keys: see dynamo-schema.ts.
//
// Fan-in without a hot item or a big item: a task's item is the source of truth for its status,
// and an outcome applies to it at most once per attempt (a conditional write), so a duplicate or
// late status message changes nothing and counts nothing. Only the caller whose conditional
// write succeeded counts the task: one atomic ADD on one of TALLY_SHARDS small counter items
// (calls of one status batch are coalesced into one ADD, rotating over the shards), then one
// strongly consistent read of the node's shards. 100,000 finishes of a batch therefore land on
// TASK_SHARDS task keys and TALLY_SHARDS counter keys instead of one job item, and no item grows
// with the batch. The job record is written only when something besides a counter changes (a
// node completes, an item fails, a streaming child needs the item): the Coordinator compares
// the summed counters with the node's total (countFinished) and skips the job write otherwise.
// A crash between the task write and the ADD can only under-count, never double-count; the
// dispatch tick's sweep and reconcile rebuild counters from the task items then.
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { jobStateText, loadValue, type StoredValue, storeValue } from '../../engine/stored-values.ts';
import { taskIdentity } from '../../engine/task-identity.ts';
import type { JobState, TaskStatus } from '../../engine/types.ts';
import { ConflictError, NotFoundError } from '../../errors.ts';
import type { AlgorithmDefinition, Pipeline } from '../../pipeline/types.ts';
import type { BlobStore } from '../../ports/blob-store.ts';
import type {
  ItemResult,
  JobFilter,
  JobStore,
  JobSummary,
  NewTask,
  NodeCounts,
  NodeTally,
  TaskFinish,
  TaskRecord,
} from '../../ports/job-store.ts';
import { DEFAULT_RETENTION_DAYS, GSI, TALLY_SHARDS, TASK_SHARDS } from './dynamo-schema.ts';

export interface DynamoTables {
  jobs: string;
  tasks: string;
  registry: string;
}

export interface DynamoStoreOptions {
  client: DynamoDBDocumentClient;
  tables: DynamoTables;
  blobs: BlobStore;
  retentionDays?: number;
}

type Item = Record<string, unknown>;

const isConditionFailure = (err: unknown) =>
  (err as { name?: string })?.name === 'ConditionalCheckFailedException';

const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
const tallyKey = (jobId: string, node: string, shard: number) => ({
  pk: `TALLY#${jobId}#${node}#${shard}`,
  sk: 'TALLY',
});
const taskPk = (jobId: string, node: string, batchIndex: number | undefined) =>
  `T#${jobId}#${node}#${(batchIndex ?? 0) % TASK_SHARDS}`;

/** The key of a task item, from its id `<jobId>.<node>[.<batchIndex>]` (ids contain no other '.'). */
export function taskKey(taskId: string): { pk: string; sk: number; jobId: string; node: string } {
  const parts = taskId.split('.');
  const jobId = parts[0] ?? '';
  const node = parts[1] ?? '';
  const batchIndex = parts.length > 2 ? Number(parts[2]) : undefined;
  return { pk: taskPk(jobId, node, batchIndex), sk: batchIndex ?? 0, jobId, node };
}

const RESERVED: Record<string, string> = { '#s': 'status', '#r': 'result', '#e': 'error' };
/** The attribute-name placeholders a projection uses (DynamoDB rejects unused ones). */
const namesIn = (projection: string) =>
  Object.fromEntries(Object.entries(RESERVED).filter(([k]) => projection.includes(k)));

/** How long counts of one node wait to be coalesced into one counter write. */
const COUNT_WINDOW_MS = 20;

interface PendingCount {
  jobId: string;
  node: string;
  add: { succeeded: number; failed: number; stopped: number };
  waiters: { resolve: (t: NodeTally) => void; reject: (err: unknown) => void }[];
}

const FINAL: TaskStatus[] = ['succeeded', 'failed', 'stopped'];

export class DynamoJobStore implements JobStore {
  readonly client: DynamoDBDocumentClient;
  readonly tables: DynamoTables;
  private readonly blobs: BlobStore;
  private readonly retentionSec: number;
  /** Pipelines never change once a job exists: parsed once per process. */
  private pipelines = new Map<string, Pipeline>();
  private pendingCounts = new Map<string, PendingCount>();
  private nextShard = Math.floor(Math.random() * TALLY_SHARDS);

  constructor(opts: DynamoStoreOptions) {
    this.client = opts.client;
    this.tables = opts.tables;
    this.blobs = opts.blobs;
    this.retentionSec = (opts.retentionDays ?? DEFAULT_RETENTION_DAYS) * 86_400;
  }

  private expiry(at: number): number {
    return Math.floor(at / 1000) + this.retentionSec;
  }

  // ----------------------------------------------------------------------------- values
  private encode(value: unknown, key: string): Promise<StoredValue> {
    return storeValue(this.blobs, value, key);
  }

  private decode(text: unknown, blob: unknown): Promise<unknown> {
    return loadValue(this.blobs, text, blob);
  }

  // ----------------------------------------------------------------------------- jobs
  private stateText(state: JobState): string {
    return jobStateText(state);
  }

  private jobAttributes(state: JobState) {
    const final = state.status === 'completed' || state.status === 'failed' || state.status === 'stopped';
    return {
      status: state.status,
      version: state.version,
      state: this.stateText(state),
      admitted: state.admitted,
      ...(state.finishedAt !== undefined ? { finishedAt: state.finishedAt } : {}),
      ...(state.reason ? { reason: state.reason } : {}),
      ...(final ? { ttl: this.expiry(state.finishedAt ?? Date.now()) } : {}),
    };
  }

  async createJob(state: JobState): Promise<void> {
    const p = await this.encode(state.pipeline, `jobs/${state.jobId}/pipeline.json`);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.jobs,
          Item: {
            ...jobKey(state.jobId),
            jobId: state.jobId,
            pipelineName: state.pipeline.name,
            priority: state.pipeline.priority,
            createdAt: state.createdAt,
            day: new Date(state.createdAt).toISOString().slice(0, 10),
            ...(p.text !== undefined ? { pipeline: p.text } : { pipelineBlob: p.blob }),
            ...this.jobAttributes(state),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError(`job ${state.jobId} already exists`);
      throw err;
    }
    this.pipelines.set(state.jobId, state.pipeline);
  }

  private async itemToJob(item: Item): Promise<JobState> {
    const jobId = String(item.jobId);
    let pipeline = this.pipelines.get(jobId);
    if (!pipeline) {
      pipeline = (await this.decode(item.pipeline, item.pipelineBlob)) as Pipeline;
      this.pipelines.set(jobId, pipeline);
    }
    return { ...(JSON.parse(String(item.state)) as Omit<JobState, 'pipeline'>), pipeline };
  }

  /**
   * The job with its node counters brought up to date from the counter shards of the nodes still
   * running (counters only grow, so taking the larger value is always right).
   */
  async getJob(jobId: string): Promise<JobState | undefined> {
    const r = await this.client.send(
      new GetCommand({ TableName: this.tables.jobs, Key: jobKey(jobId), ConsistentRead: true }),
    );
    if (!r.Item) return undefined;
    const state = await this.itemToJob(r.Item);
    if (state.status !== 'active' && state.status !== 'pending') return state;
    const active = Object.entries(state.nodes)
      .filter(([, n]) => n.status === 'active')
      .map(([name]) => name);
    if (active.length === 0) return state;
    const tallies = await this.tallies(jobId, active);
    for (const name of active) {
      const t = tallies.get(name);
      const n = state.nodes[name];
      if (!t || !n) continue;
      state.nodes[name] = {
        ...n,
        succeeded: Math.max(n.succeeded, t.succeeded),
        failed: Math.max(n.failed, t.failed),
        stopped: Math.max(n.stopped, t.stopped),
        created: Math.max(n.created, t.created),
      };
    }
    return state;
  }

  private recent = new Map<string, { job: Promise<JobState | undefined>; at: number }>();

  /**
   * The job record as last written (counters as of its last transition, no counter-shard read),
   * reused for `maxAgeMs` (concurrent callers share one read): for decisions that write nothing
   * to the job (Coordinator.readJob, the worker).
   */
  readJob(jobId: string, maxAgeMs = 500): Promise<JobState | undefined> {
    const c = this.recent.get(jobId);
    if (c && Date.now() - c.at < maxAgeMs) return c.job;
    const job = this.client
      .send(new GetCommand({ TableName: this.tables.jobs, Key: jobKey(jobId), ConsistentRead: true }))
      .then((r) => (r.Item ? this.itemToJob(r.Item) : undefined));
    this.recent.set(jobId, { job, at: Date.now() });
    job.catch(() => this.recent.delete(jobId));
    if (this.recent.size > 1000) this.recent.delete(this.recent.keys().next().value as string);
    return job;
  }

  async saveJob(state: JobState, expectedVersion: number): Promise<boolean> {
    const a = this.jobAttributes(state);
    const names: Record<string, string> = { '#status': 'status', '#state': 'state' };
    const sets = ['#status = :status', 'version = :version', '#state = :state', 'admitted = :admitted'];
    const values: Record<string, unknown> = {
      ':status': a.status,
      ':version': a.version,
      ':state': a.state,
      ':admitted': a.admitted,
      ':expected': expectedVersion,
    };
    if (a.finishedAt !== undefined) {
      sets.push('finishedAt = :finishedAt');
      values[':finishedAt'] = a.finishedAt;
    }
    if (a.reason !== undefined) {
      sets.push('reason = :reason');
      values[':reason'] = a.reason;
    }
    if (a.ttl !== undefined) {
      names['#ttl'] = 'ttl';
      sets.push('#ttl = :ttl');
      values[':ttl'] = a.ttl;
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.jobs,
          Key: jobKey(state.jobId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'version = :expected',
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

  private summary(i: Item): JobSummary {
    return {
      jobId: String(i.jobId),
      pipelineName: String(i.pipelineName),
      status: i.status as JobSummary['status'],
      priority: Number(i.priority),
      createdAt: Number(i.createdAt),
      ...(i.finishedAt !== undefined ? { finishedAt: Number(i.finishedAt) } : {}),
      ...(i.reason ? { reason: String(i.reason) } : {}),
    };
  }

  private async queryAll(input: QueryCommandInput, limit = Number.POSITIVE_INFINITY): Promise<Item[]> {
    const out: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.client.send(
        new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      out.push(...((r.Items ?? []) as Item[]));
      start = r.LastEvaluatedKey;
    } while (start && out.length < limit);
    return out;
  }

  async listJobs(filter: JobFilter): Promise<JobSummary[]> {
    const limit = filter.limit ?? 100;
    let items: Item[];
    if (filter.pipelineName) {
      items = await this.queryAll(
        {
          TableName: this.tables.jobs,
          IndexName: GSI.byPipeline,
          KeyConditionExpression: 'pipelineName = :p',
          ExpressionAttributeValues: {
            ':p': filter.pipelineName,
            ...(filter.status ? { ':s': filter.status } : {}),
          },
          ...(filter.status
            ? { FilterExpression: '#status = :s', ExpressionAttributeNames: { '#status': 'status' } }
            : {}),
          ScanIndexForward: false,
        },
        limit,
      );
    } else if (filter.status) {
      items = await this.queryAll(
        {
          TableName: this.tables.jobs,
          IndexName: GSI.byStatus,
          KeyConditionExpression: '#status = :s',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':s': filter.status },
          ScanIndexForward: false,
        },
        limit,
      );
    } else {
      // Newest first, one day's partition at a time, back to the retention horizon.
      items = [];
      const days = Math.ceil(this.retentionSec / 86_400) + 1;
      for (let d = 0; d < days && items.length < limit; d++) {
        const day = new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
        items.push(
          ...(await this.queryAll(
            {
              TableName: this.tables.jobs,
              IndexName: GSI.byDay,
              KeyConditionExpression: '#day = :d',
              ExpressionAttributeNames: { '#day': 'day' },
              ExpressionAttributeValues: { ':d': day },
              ScanIndexForward: false,
            },
            limit - items.length,
          )),
        );
      }
    }
    return items
      .map((i) => this.summary(i))
      .sort((a, b) => b.createdAt - a.createdAt || (a.jobId < b.jobId ? 1 : -1))
      .slice(0, limit);
  }

  async unfinishedJobs(): Promise<JobState[]> {
    const out: JobState[] = [];
    for (const status of ['pending', 'active']) {
      const items = await this.queryAll({
        TableName: this.tables.jobs,
        IndexName: GSI.byStatus,
        KeyConditionExpression: '#status = :s',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':s': status },
      });
      for (const i of items) {
        const job = await this.getJob(String(i.jobId));
        if (job && (job.status === 'pending' || job.status === 'active')) out.push(job);
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async countActiveJobs(pipelineName: string): Promise<number> {
    return (await this.listJobs({ pipelineName, status: 'active', limit: 10_000 })).length;
  }

  // ----------------------------------------------------------------------------- tasks
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
    const fresh0 = new Set<string>();
    for (const { jobId, node } of nodes.values()) {
      if ((await this.tallies(jobId, [node])).get(node)?.created === 0) fresh0.add(`${jobId}#${node}`);
    }
    const toCheck = tasks.filter((t) => !fresh0.has(`${t.jobId}#${t.nodeName}`));
    const exists = new Set<string>();
    for (let i = 0; i < toCheck.length; i += 100) {
      const chunk = toCheck.slice(i, i + 100).map((t) => taskKey(t.taskId));
      let keys: Record<string, unknown>[] = chunk.map((k) => ({ pk: k.pk, sk: k.sk }));
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
    const fresh = tasks.filter((t) => !exists.has(t.taskId));
    const items: Item[] = [];
    for (const t of fresh) {
      const k = taskKey(t.taskId);
      const input = await this.encode(t.input, `tasks/${t.jobId}/${t.taskId}.input.json`);
      items.push({
        pk: k.pk,
        sk: k.sk,
        taskId: t.taskId,
        ...taskIdentity(t),
        status: 'queued',
        attempts: 0,
        // Backstop expiry for a task that never finishes; a finish sets finish + retention.
        ttl: this.expiry(t.queuedAt) + this.retentionSec,
        ...(input.text !== undefined ? { input: input.text } : { inputBlob: input.blob }),
      });
    }
    await this.batchPut(this.tables.tasks, items);
    // `created` counters: one ADD per shard touched, not one per task.
    const perShard = new Map<string, { node: string; shard: number; n: number; jobId: string }>();
    for (const t of fresh) {
      const shard = (t.batchIndex ?? 0) % TALLY_SHARDS;
      const id = `${t.jobId}#${t.nodeName}#${shard}`;
      const e = perShard.get(id) ?? { node: t.nodeName, shard, n: 0, jobId: t.jobId };
      e.n++;
      perShard.set(id, e);
    }
    await Promise.all(
      [...perShard.values()].map((e) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tables.jobs,
            Key: tallyKey(e.jobId, e.node, e.shard),
            // Counter items expire with the job (a backstop: twice the retention after creation).
            UpdateExpression: 'ADD created :n SET #ttl = if_not_exists(#ttl, :ttl)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: { ':n': e.n, ':ttl': this.expiry(Date.now()) + this.retentionSec },
          }),
        ),
      ),
    );
    return fresh.length;
  }

  /** Writes items 25 per request, 16 requests in flight (a 100,000-task expansion is ~4,000). */
  private async batchPut(table: string, items: Item[]): Promise<void> {
    const chunks: Item[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    let next = 0;
    const lane = async () => {
      while (next < chunks.length) {
        const chunk = chunks[next++] as Item[];
        let requests = chunk.map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length; attempt++) {
          const r = await this.client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (r.UnprocessedItems?.[table] ?? []) as typeof requests;
          if (requests.length) await new Promise((res) => setTimeout(res, Math.min(1000, 20 * 2 ** attempt)));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, chunks.length) }, lane));
  }

  private async itemToTask(i: Item): Promise<TaskRecord> {
    const result = await this.decode(i.result, i.resultBlob);
    return {
      taskId: String(i.taskId),
      jobId: String(i.jobId),
      nodeName: String(i.nodeName),
      ...(i.batchIndex !== undefined ? { batchIndex: Number(i.batchIndex) } : {}),
      algorithmName: String(i.algorithmName),
      pipelineName: String(i.pipelineName),
      priority: Number(i.priority),
      input: ((await this.decode(i.input, i.inputBlob)) ?? []) as unknown[],
      queuedAt: Number(i.queuedAt),
      status: i.status as TaskStatus,
      attempts: Number(i.attempts ?? 0),
      ...(result !== undefined ? { result } : {}),
      ...(i.error !== undefined ? { error: String(i.error) } : {}),
      ...(Array.isArray(i.logs) ? { logs: i.logs as string[] } : {}),
      ...(i.startedAt !== undefined ? { startedAt: Number(i.startedAt) } : {}),
      ...(i.finishedAt !== undefined ? { finishedAt: Number(i.finishedAt) } : {}),
    };
  }

  async getTask(taskId: string): Promise<TaskRecord | undefined> {
    const k = taskKey(taskId);
    const r = await this.client.send(
      new GetCommand({ TableName: this.tables.tasks, Key: { pk: k.pk, sk: k.sk }, ConsistentRead: true }),
    );
    return r.Item ? this.itemToTask(r.Item) : undefined;
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

  /**
   * The outcome's conditions: with an `attempt` (AWS: the SQS message is the lease, the item stays
   * `queued` while it runs) at most one outcome per attempt applies; otherwise the task must be
   * `active` (a claimer that marks tasks active itself).
   */
  private outcomeCondition(attempt: number | undefined, values: Record<string, unknown>): string {
    if (attempt === undefined) {
      values[':active'] = 'active';
      return '#s = :active';
    }
    values[':active'] = 'active';
    values[':queued'] = 'queued';
    values[':attempt'] = attempt;
    return '(#s = :active OR #s = :queued) AND (attribute_not_exists(attempts) OR attempts < :attempt)';
  }

  async finishTask(taskId: string, f: TaskFinish): Promise<boolean> {
    const k = taskKey(taskId);
    const res = await this.encode(f.result, `tasks/${k.jobId}/${taskId}.result.json`);
    const sets = ['#s = :status', 'finishedAt = :at', '#ttl = :ttl'];
    const values: Record<string, unknown> = {
      ':status': f.status,
      ':at': f.at,
      ':ttl': this.expiry(f.at),
    };
    const condition = this.outcomeCondition(f.attempt, values);
    if (f.attempt !== undefined) sets.push('attempts = :attempt');
    if (f.startedAt !== undefined) {
      sets.push('startedAt = :startedAt');
      values[':startedAt'] = f.startedAt;
    }
    if (res.text !== undefined) {
      sets.push('#result = :result');
      values[':result'] = res.text;
    }
    if (res.blob !== undefined) {
      sets.push('resultBlob = :blob');
      values[':blob'] = res.blob;
    }
    if (f.error !== undefined) {
      sets.push('#error = :error');
      values[':error'] = f.error;
    }
    if (f.logs?.length) {
      sets.push('logs = :logs');
      values[':logs'] = f.logs.slice(-200);
    }
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.tasks,
          Key: { pk: k.pk, sk: k.sk },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: {
            '#s': 'status',
            '#ttl': 'ttl',
            ...(res.text !== undefined ? { '#result': 'result' } : {}),
            ...(f.error !== undefined ? { '#error': 'error' } : {}),
          },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
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

  /**
   * Counts a finished task. Calls for the same node within a few ms (one status batch) are
   * coalesced: one ADD of their sum on one counter shard (rotating over TALLY_SHARDS, so no shard
   * is a hot key), then one strongly consistent read of the node's shards, whose sum every caller
   * gets. The sum is read after the caller's own ADD, so whoever counts the last task sees the
   * node complete.
   */
  async countFinished(task: TaskRecord, outcome: 'succeeded' | 'failed' | 'stopped'): Promise<NodeTally> {
    const id = `${task.jobId}#${task.nodeName}`;
    let p = this.pendingCounts.get(id);
    if (!p) {
      const fresh: PendingCount = {
        jobId: task.jobId,
        node: task.nodeName,
        add: { succeeded: 0, failed: 0, stopped: 0 },
        waiters: [],
      };
      this.pendingCounts.set(id, fresh);
      setTimeout(() => void this.flushCounts(id, fresh), COUNT_WINDOW_MS);
      p = fresh;
    }
    p.add[outcome]++;
    const pending = p;
    return new Promise((resolve, reject) => pending.waiters.push({ resolve, reject }));
  }

  private async flushCounts(id: string, p: PendingCount): Promise<void> {
    if (this.pendingCounts.get(id) === p) this.pendingCounts.delete(id);
    try {
      const parts = (['succeeded', 'failed', 'stopped'] as const).filter((k) => p.add[k] > 0);
      const shard = this.nextShard++ % TALLY_SHARDS;
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.jobs,
          Key: tallyKey(p.jobId, p.node, shard),
          UpdateExpression: `ADD ${parts.map((k) => `${k} :${k}`).join(', ')}`,
          ExpressionAttributeValues: Object.fromEntries(parts.map((k) => [`:${k}`, p.add[k]])),
        }),
      );
      const sum = (await this.tallies(p.jobId, [p.node])).get(p.node) as NodeTally;
      for (const w of p.waiters) w.resolve(sum);
    } catch (err) {
      for (const w of p.waiters) w.reject(err);
    }
  }

  /** Sums of the counter shards of some nodes (strongly consistent). */
  async tallies(jobId: string, nodes: string[]): Promise<Map<string, NodeTally & { created: number }>> {
    const out = new Map<string, NodeTally & { created: number }>();
    for (const n of nodes) out.set(n, { succeeded: 0, failed: 0, stopped: 0, created: 0 });
    let keys: Record<string, unknown>[] = nodes.flatMap((n) =>
      Array.from({ length: TALLY_SHARDS }, (_, k) => tallyKey(jobId, n, k)),
    );
    const pending: Record<string, unknown>[][] = [];
    for (let i = 0; i < keys.length; i += 100) pending.push(keys.slice(i, i + 100));
    for (let chunk of pending) {
      while (chunk.length) {
        const r = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tables.jobs]: { Keys: chunk, ConsistentRead: true } },
          }),
        );
        for (const it of r.Responses?.[this.tables.jobs] ?? []) {
          const node = String(it.pk).split('#')[2] ?? '';
          const t = out.get(node);
          if (!t) continue;
          t.succeeded += Number(it.succeeded ?? 0);
          t.failed += Number(it.failed ?? 0);
          t.stopped += Number(it.stopped ?? 0);
          t.created += Number(it.created ?? 0);
        }
        chunk = (r.UnprocessedKeys?.[this.tables.jobs]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    keys = [];
    return out;
  }

  private async nodeItems(jobId: string, node: string, projection?: string): Promise<Item[]> {
    const shards = await Promise.all(
      Array.from({ length: TASK_SHARDS }, (_, k) =>
        this.queryAll({
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

  private async nodeNames(jobId: string): Promise<string[]> {
    const job = await this.getJob(jobId);
    return job ? Object.keys(job.nodes) : [];
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
                  ':ttl': this.expiry(at),
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
   * Per-node counts from the counter shards (cheap at any batch size). `active` is not counted
   * (it would cost a write per task start); it shows as queued until the task finishes.
   */
  async nodeCounts(jobId: string): Promise<Record<string, NodeCounts>> {
    const out: Record<string, NodeCounts> = {};
    const nodes = await this.nodeNames(jobId);
    for (const [node, t] of await this.tallies(jobId, nodes)) {
      if (t.created === 0) continue;
      const done = t.succeeded + t.failed + t.stopped;
      out[node] = { ...t, queued: Math.max(0, t.created - done), active: 0 };
    }
    return out;
  }

  /** Rewrites a node's counter shards from the task items (after a crash left them short). */
  async rebuildTallies(jobId: string): Promise<void> {
    for (const node of await this.nodeNames(jobId)) {
      const items = await this.nodeItems(jobId, node, '#s, batchIndex');
      const shards = Array.from({ length: TALLY_SHARDS }, () => ({
        created: 0,
        succeeded: 0,
        failed: 0,
        stopped: 0,
      }));
      for (const i of items) {
        const s = shards[Number(i.batchIndex ?? 0) % TALLY_SHARDS] as Record<string, number>;
        s.created = (s.created ?? 0) + 1;
        const st = String(i.status);
        if (FINAL.includes(st as TaskStatus)) s[st] = (s[st] ?? 0) + 1;
      }
      await this.batchPut(
        this.tables.jobs,
        shards.map((s, k) => ({ ...tallyKey(jobId, node, k), ...s })),
      );
    }
  }

  private async itemToResult(i: Item): Promise<ItemResult> {
    const result = await this.decode(i.result, i.resultBlob);
    return {
      ...(i.batchIndex !== undefined ? { batchIndex: Number(i.batchIndex) } : {}),
      status: i.status as TaskStatus,
      ...(result !== undefined ? { result } : {}),
      ...(i.error !== undefined ? { error: String(i.error) } : {}),
    };
  }

  async nodeResults(jobId: string, nodeName: string): Promise<ItemResult[]> {
    const items = await this.nodeItems(jobId, nodeName, 'batchIndex, #s, #r, resultBlob, #e, sk');
    return Promise.all(items.map((i) => this.itemToResult(i)));
  }

  private async queryNode(jobId: string, nodeName: string): Promise<Item[]> {
    return this.nodeItems(jobId, nodeName);
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
    for (const n of nodes) for (const i of await this.queryNode(jobId, n)) out.push(await this.itemToTask(i));
    return out;
  }

  async copyTasks(fromJobId: string, toJobId: string, nodeNames: string[]): Promise<void> {
    for (const n of nodeNames) {
      const items = await this.queryNode(fromJobId, n);
      const copies = items.map((i) => {
        const taskId = `${toJobId}${String(i.taskId).slice(fromJobId.length)}`;
        return { ...i, pk: taskKey(taskId).pk, taskId, jobId: toJobId };
      });
      await this.batchPut(this.tables.tasks, copies);
    }
    await this.rebuildTallies(toJobId);
  }

  async saveResults(jobId: string, results: unknown): Promise<void> {
    const e = await this.encode(results, `jobs/${jobId}/results.json`);
    await this.client.send(
      new UpdateCommand({
        TableName: this.tables.jobs,
        Key: jobKey(jobId),
        UpdateExpression: e.text !== undefined ? 'SET results = :v' : 'SET resultsBlob = :v',
        ExpressionAttributeValues: { ':v': e.text ?? e.blob },
      }),
    );
  }

  async getResults(jobId: string): Promise<unknown | undefined> {
    const r = await this.client.send(
      new GetCommand({
        TableName: this.tables.jobs,
        Key: jobKey(jobId),
        ConsistentRead: true,
        ProjectionExpression: 'results, resultsBlob',
      }),
    );
    return r.Item ? this.decode(r.Item.results, r.Item.resultsBlob) : undefined;
  }

  // ----------------------------------------------------------------------------- registry
  private async putNamed(kind: 'PIPELINE' | 'ALGORITHM', name: string, body: unknown, mode: string) {
    const label = kind === 'PIPELINE' ? 'pipeline' : 'algorithm';
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tables.registry,
          Item: { pk: kind, sk: name, body: JSON.stringify(body), updatedAt: Date.now() },
          ...(mode === 'create' ? { ConditionExpression: 'attribute_not_exists(pk)' } : {}),
          ...(mode === 'update' ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      if (mode === 'create') throw new ConflictError(`${label} "${name}" already exists`);
      throw new NotFoundError(`${label} "${name}" does not exist`);
    }
  }

  private async getNamed<T>(kind: string, name: string): Promise<T | undefined> {
    const r = await this.client.send(
      new GetCommand({ TableName: this.tables.registry, Key: { pk: kind, sk: name }, ConsistentRead: true }),
    );
    return r.Item ? (JSON.parse(String(r.Item.body)) as T) : undefined;
  }

  private async listNamed<T>(kind: string): Promise<T[]> {
    const items = await this.queryAll({
      TableName: this.tables.registry,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': kind },
      ConsistentRead: true,
    });
    return items.map((i) => JSON.parse(String(i.body)) as T);
  }

  private async deleteNamed(kind: string, name: string): Promise<boolean> {
    const r = await this.client.send(
      new DeleteCommand({
        TableName: this.tables.registry,
        Key: { pk: kind, sk: name },
        ReturnValues: 'ALL_OLD',
      }),
    );
    return r.Attributes !== undefined;
  }

  putPipeline(p: Pipeline, mode: 'create' | 'update' | 'upsert'): Promise<void> {
    return this.putNamed('PIPELINE', p.name, p, mode);
  }
  getPipeline(name: string): Promise<Pipeline | undefined> {
    return this.getNamed<Pipeline>('PIPELINE', name);
  }
  listPipelines(): Promise<Pipeline[]> {
    return this.listNamed<Pipeline>('PIPELINE');
  }
  deletePipeline(name: string): Promise<boolean> {
    return this.deleteNamed('PIPELINE', name);
  }
  putAlgorithm(a: AlgorithmDefinition, mode: 'create' | 'update' | 'upsert'): Promise<void> {
    return this.putNamed('ALGORITHM', a.name, a, mode);
  }
  getAlgorithm(name: string): Promise<AlgorithmDefinition | undefined> {
    return this.getNamed<AlgorithmDefinition>('ALGORITHM', name);
  }
  listAlgorithms(): Promise<AlgorithmDefinition[]> {
    return this.listNamed<AlgorithmDefinition>('ALGORITHM');
  }
  deleteAlgorithm(name: string): Promise<boolean> {
    return this.deleteNamed('ALGORITHM', name);
  }

  // ----------------------------------------------------------------------------- slots
  /**
   * Per-algorithm `maxWorkers` across the whole fleet: a counting semaphore on one registry item
   * per capped algorithm (uncapped algorithms never touch it). Conditional ADD, so it never
   * exceeds the cap, whatever the number of workers claiming at once.
   */
  async acquireSlot(algorithm: string, cap: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.registry,
          Key: { pk: 'SLOTS', sk: algorithm },
          UpdateExpression: 'ADD active :one',
          ConditionExpression: 'attribute_not_exists(active) OR active < :cap',
          ExpressionAttributeValues: { ':one': 1, ':cap': cap },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async releaseSlot(algorithm: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tables.registry,
          Key: { pk: 'SLOTS', sk: algorithm },
          UpdateExpression: 'ADD active :minus',
          ConditionExpression: 'active > :zero',
          ExpressionAttributeValues: { ':minus': -1, ':zero': 0 },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async slotsInUse(): Promise<Map<string, number>> {
    const items = await this.queryAll({
      TableName: this.tables.registry,
      KeyConditionExpression: 'pk = :k',
      ExpressionAttributeValues: { ':k': 'SLOTS' },
      ConsistentRead: true,
    });
    return new Map(items.map((i) => [String(i.sk), Number(i.active ?? 0)]));
  }
}
