// JobStore on DynamoDB: one item per job (status, version, state JSON, pipeline, results), with
// GSIs by status, by pipeline and by day, and one item per node (job-nodes.ts). getJob adds the node tallies of running nodes (an
// outcome that changes only a counter does not rewrite the job); readRecord() is the item alone.
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { jobStateText, loadValue, storeValue } from '../../../engine/stored-values.ts';
import { ConflictError } from '../../../errors.ts';
import type { Pipeline } from '../../../pipeline/types.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import { isJobFinal, type JobState, type NodeState, raisedToTally } from '../../../ports/job-state.ts';
import type { JobFilter, JobStore, JobSummary } from '../../../ports/jobs.ts';
import { GSI } from '../dynamo-schema.ts';
import {
  type DynamoTables,
  finishingKey,
  type Item,
  isConditionFailure,
  jobKey,
  queryAll,
  type Retention,
} from './items.ts';
import { DynamoJobNodes } from './job-nodes.ts';
import type { DynamoTallies } from './tallies.ts';

export class DynamoJobs implements JobStore {
  /** Pipelines never change once a job exists: parsed once per process. */
  private pipelines = new Map<string, Pipeline>();
  private readonly nodes: DynamoJobNodes;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tables: DynamoTables,
    private readonly blobs: BlobStore,
    private readonly tallies: DynamoTallies,
    private readonly retention: Retention,
  ) {
    this.nodes = new DynamoJobNodes(client, tables.jobs, blobs);
  }

  private attributes(state: JobState) {
    return {
      status: state.status,
      version: state.version,
      state: jobStateText(state),
      admitted: state.admitted,
      ...(state.finishedAt !== undefined ? { finishedAt: state.finishedAt } : {}),
      ...(state.reason ? { reason: state.reason } : {}),
      ...(isJobFinal(state) ? { ttl: this.retention.expiry(state.finishedAt ?? Date.now()) } : {}),
    };
  }

  async createJob(state: JobState): Promise<void> {
    const p = await storeValue(this.blobs, state.pipeline, `jobs/${state.jobId}/pipeline.json`);
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
            ...this.attributes(state),
            ...(await this.nodes.deltaAttributes(state)),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new ConflictError(`job ${state.jobId} already exists`);
      throw err;
    }
    this.pipelines.set(state.jobId, state.pipeline);
    this.nodes.remember(state);
  }

  private async itemToJob(item: Item): Promise<JobState> {
    const jobId = String(item.jobId);
    let pipeline = this.pipelines.get(jobId);
    if (!pipeline) {
      pipeline = (await loadValue(this.blobs, item.pipeline, item.pipelineBlob)) as Pipeline;
      this.pipelines.set(jobId, pipeline);
    }
    const rest = JSON.parse(String(item.state)) as Omit<JobState, 'pipeline' | 'nodes'>;
    const nodes = await this.nodes.read(jobId, item, rest, pipeline);
    const { nodes: _legacy, ...state } = rest as typeof rest & { nodes?: unknown };
    return { ...state, nodes, pipeline };
  }

  /** The job item as last written: counters as of its last transition, no tally read. */
  async readRecord(jobId: string): Promise<JobState | undefined> {
    const r = await this.client.send(
      new GetCommand({ TableName: this.tables.jobs, Key: jobKey(jobId), ConsistentRead: true }),
    );
    return r.Item ? this.itemToJob(r.Item) : undefined;
  }

  /**
   * The job with the counters of its running nodes brought up to date from their tallies
   * (counters only grow, so taking the larger value is always right).
   */
  async getJob(jobId: string): Promise<JobState | undefined> {
    const state = await this.readRecord(jobId);
    if (!state || isJobFinal(state)) return state;
    const active = state.nodes.active;
    if (active.length === 0) return state;
    const tallies = await this.tallies.tallies(jobId, [...active]);
    const raised: [string, NodeState][] = [];
    for (const name of active) {
      const t = tallies.get(name);
      const n = state.nodes.get(name);
      if (!t || !n) continue;
      raised.push([name, raisedToTally(n, t)]);
    }
    return { ...state, nodes: state.nodes.withAll(raised) };
  }

  async saveJob(state: JobState, expectedVersion: number, changed?: readonly string[]): Promise<boolean> {
    // The delta of the version replaced goes to the node items first (see job-nodes.ts).
    if (!(await this.nodes.settle(state.jobId, expectedVersion))) {
      await this.readRecord(state.jobId);
      if (!(await this.nodes.settle(state.jobId, expectedVersion))) return false;
    }
    const a = this.attributes(state);
    const delta = await this.nodes.deltaAttributes(state, changed);
    const names: Record<string, string> = { '#status': 'status', '#state': 'state' };
    const sets = [
      '#status = :status',
      'version = :version',
      '#state = :state',
      'admitted = :admitted',
      'delta = :delta',
      'deltaBlob = :deltaBlob',
    ];
    const values: Record<string, unknown> = {
      ':delta': delta.delta,
      ':deltaBlob': delta.deltaBlob,
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
    } catch (err) {
      if (isConditionFailure(err)) {
        this.nodes.forget(state.jobId);
        return false;
      }
      throw err;
    }
    this.nodes.remember(state, changed);
    if (a.ttl !== undefined) await this.nodes.finish(state, a.ttl);
    return true;
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

  private byStatus(status: string): QueryCommandInput {
    return {
      TableName: this.tables.jobs,
      IndexName: GSI.byStatus,
      KeyConditionExpression: '#status = :s',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':s': status },
    };
  }

  async listJobs(filter: JobFilter): Promise<JobSummary[]> {
    const limit = filter.limit ?? 100;
    let items: Item[];
    if (filter.pipelineName) {
      items = await queryAll(
        this.client,
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
      items = await queryAll(
        this.client,
        { ...this.byStatus(filter.status), ScanIndexForward: false },
        limit,
      );
    } else {
      // Newest first, one day's partition at a time, back to the retention horizon.
      items = [];
      const days = Math.ceil(this.retention.seconds / 86_400) + 1;
      for (let d = 0; d < days && items.length < limit; d++) {
        const day = new Date(Date.now() - d * 86_400_000).toISOString().slice(0, 10);
        const page = await queryAll(
          this.client,
          {
            TableName: this.tables.jobs,
            IndexName: GSI.byDay,
            KeyConditionExpression: '#day = :d',
            ExpressionAttributeNames: { '#day': 'day' },
            ExpressionAttributeValues: { ':d': day },
            ScanIndexForward: false,
          },
          limit - items.length,
        );
        items.push(...page);
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
      for (const i of await queryAll(this.client, this.byStatus(status))) {
        const job = await this.getJob(String(i.jobId));
        if (job && !isJobFinal(job)) out.push(job);
      }
    }
    return out.sort((a, b) => a.createdAt - b.createdAt);
  }

  async countActiveJobs(pipelineName: string): Promise<number> {
    return (await this.listJobs({ pipelineName, status: 'active', limit: 10_000 })).length;
  }

  async countAdmittedUnfinished(pipelineName: string): Promise<number> {
    let count = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.client.send(
        new QueryCommand({
          TableName: this.tables.jobs,
          IndexName: GSI.byPipeline,
          KeyConditionExpression: 'pipelineName = :p',
          FilterExpression: '(#status = :pending OR #status = :active) AND admitted = :yes',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':p': pipelineName,
            ':pending': 'pending',
            ':active': 'active',
            ':yes': true,
          },
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += r.Count ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /** The node names of a job (they never change: read from the item, no tally read). */
  async nodeNames(jobId: string): Promise<string[]> {
    const pipeline = this.pipelines.get(jobId);
    if (pipeline) return [...this.nodes.orderOf(jobId, pipeline)];
    const job = await this.readRecord(jobId);
    return job ? [...job.nodes.names] : [];
  }

  async markFinishing(jobId: string, since: number): Promise<void> {
    await this.client.send(
      new PutCommand({ TableName: this.tables.jobs, Item: { ...finishingKey(jobId), jobId, since } }),
    );
  }

  async finishingJobs(): Promise<{ jobId: string; since: number }[]> {
    const items = await queryAll(this.client, {
      TableName: this.tables.jobs,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': finishingKey('').pk },
      ConsistentRead: true,
    });
    return items
      .map((i) => ({ jobId: String(i.jobId), since: Number(i.since) }))
      .sort((a, b) => a.since - b.since);
  }

  async clearFinishing(jobId: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tables.jobs, Key: finishingKey(jobId) }));
  }

  async saveResults(jobId: string, results: unknown): Promise<void> {
    const e = await storeValue(this.blobs, results, `jobs/${jobId}/results.json`);
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
    return r.Item ? loadValue(this.blobs, r.Item.results, r.Item.resultsBlob) : undefined;
  }
}
