// The node states of a job on DynamoDB, written incrementally without transactions (DynamoDB's
// are not in the emulators, and one job item cannot hold 10,000 nodes within 400 KB):
// - the job item carries the nodes its last transition changed (`delta`, or `deltaBlob` when over
//   INLINE_VALUE_LIMIT) beside its version;
// - every other node lives in its own item `JOB#<jobId> / N#<node>` with the version `v` it was
//   last written at.
// Saving version V+1 first copies V's delta into the node items (V is committed, so these writes
// are right whatever happens next; a condition on `v` keeps a late copy from overwriting a newer
// one), then replaces the job item conditionally on version V. A read takes the node items and puts
// the job item's delta on top; a process that read the job before reads only the items written
// since (`v` greater than what it holds).
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { loadValue, storeValue } from '../../../engine/stored-values.ts';
import { buildDag } from '../../../pipeline/index.ts';
import type { Pipeline } from '../../../pipeline/types.ts';
import type { BlobStore } from '../../../ports/blob-store.ts';
import type { JobState, NodeState } from '../../../ports/job-state.ts';
import { NodeStates } from '../../../ports/node-states.ts';
import { type Item, isConditionFailure } from './items.ts';

/** Jobs whose node states are kept between reads; the oldest goes first. */
const MAX_CACHED_JOBS = 200;
/** Conditional node writes in flight at once. */
const LANES = 16;

type Delta = [string, NodeState][];

const nodeKey = (jobId: string, name: string) => ({ pk: `JOB#${jobId}`, sk: `N#${name}` });

export class DynamoJobNodes {
  private cache = new Map<string, { version: number; nodes: NodeStates; delta: readonly string[] }>();
  private orders = new Map<string, readonly string[]>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly blobs: BlobStore,
  ) {}

  /** The job item's attributes holding the delta of `version` (changed names, or all). */
  async deltaAttributes(state: JobState, names?: readonly string[]): Promise<Item> {
    const delta: Delta = (names ?? state.nodes.names).map((n) => [n, state.nodes.get(n) as NodeState]);
    const v = await storeValue(this.blobs, delta, `jobs/${state.jobId}/nodes-${state.version}.json`);
    return v.text !== undefined ? { delta: v.text, deltaBlob: null } : { delta: null, deltaBlob: v.blob };
  }

  /** Remembers a state this process wrote (its delta: `names`, or every node). */
  remember(state: JobState, names?: readonly string[]): void {
    this.cache.delete(state.jobId);
    this.cache.set(state.jobId, {
      version: state.version,
      nodes: state.nodes,
      delta: names ?? state.nodes.names,
    });
    if (this.cache.size > MAX_CACHED_JOBS) this.cache.delete(this.cache.keys().next().value as string);
  }

  forget(jobId: string): void {
    this.cache.delete(jobId);
  }

  /**
   * Copies the delta of `expectedVersion` into the node items. Returns false when this process
   * does not know that version (the caller then reads the job again, which makes it known).
   */
  async settle(jobId: string, expectedVersion: number): Promise<boolean> {
    const c = this.cache.get(jobId);
    if (!c || c.version !== expectedVersion) return false;
    await this.writeItems(jobId, c.delta, c.nodes, expectedVersion);
    return true;
  }

  /** Writes every node of a final job with its expiry (items of a job expire with it). */
  async finish(state: JobState, ttl: number): Promise<void> {
    await this.writeItems(state.jobId, state.nodes.names, state.nodes, state.version, ttl);
  }

  private async writeItems(
    jobId: string,
    names: readonly string[],
    nodes: NodeStates,
    v: number,
    ttl?: number,
  ): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        const n = nodes.get(name);
        if (!n) continue;
        try {
          await this.client.send(
            new UpdateCommand({
              TableName: this.table,
              Key: nodeKey(jobId, name),
              UpdateExpression: `SET #node = :n, v = :v${ttl !== undefined ? ', #ttl = :ttl' : ''}`,
              ConditionExpression: 'attribute_not_exists(v) OR v <= :v',
              ExpressionAttributeNames: { '#node': 'node', ...(ttl !== undefined ? { '#ttl': 'ttl' } : {}) },
              ExpressionAttributeValues: {
                ':n': JSON.stringify(n),
                ':v': v,
                ...(ttl !== undefined ? { ':ttl': ttl } : {}),
              },
            }),
          );
        } catch (err) {
          if (!isConditionFailure(err)) throw err; // a newer version is there already
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LANES, names.length) }, lane));
  }

  /** The node states of the job item `item` (version `version`), read as little as possible. */
  async read(
    jobId: string,
    item: Item,
    rest: Record<string, unknown>,
    pipeline: Pipeline,
  ): Promise<NodeStates> {
    const version = Number(item.version);
    const legacy = rest.nodes as Record<string, NodeState> | undefined;
    const delta: Delta = legacy
      ? Object.entries(legacy)
      : (((await loadValue(this.blobs, item.delta ?? undefined, item.deltaBlob ?? undefined)) ??
          []) as Delta);
    const c = this.cache.get(jobId);
    if (c?.version === version) return c.nodes;
    const since = c && c.version < version ? c.version : undefined;
    const items = await this.items(jobId, since);
    let nodes: NodeStates;
    if (c && since !== undefined) nodes = c.nodes.withAll(items).withAll(delta);
    else {
      const byName = new Map<string, NodeState>(items);
      for (const [name, n] of delta) byName.set(name, n);
      nodes = NodeStates.of(
        this.orderOf(jobId, pipeline).flatMap((name): [string, NodeState][] => {
          const n = byName.get(name);
          return n ? [[name, n]] : [];
        }),
      );
    }
    this.remember(
      { jobId, version, nodes } as JobState,
      delta.map(([name]) => name),
    );
    return nodes;
  }

  /** Node names in the DAG's order (as the job was created). */
  orderOf(jobId: string, pipeline: Pipeline): readonly string[] {
    let order = this.orders.get(jobId);
    if (!order) {
      order = buildDag(pipeline).order;
      this.orders.set(jobId, order);
      if (this.orders.size > MAX_CACHED_JOBS) this.orders.delete(this.orders.keys().next().value as string);
    }
    return order;
  }

  private async items(jobId: string, since: number | undefined): Promise<[string, NodeState][]> {
    const out: [string, NodeState][] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :n)',
          ExpressionAttributeValues: {
            ':pk': `JOB#${jobId}`,
            ':n': 'N#',
            ...(since !== undefined ? { ':since': since } : {}),
          },
          ...(since !== undefined ? { FilterExpression: 'v > :since' } : {}),
          ProjectionExpression: 'sk, #node',
          ExpressionAttributeNames: { '#node': 'node' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of r.Items ?? [])
        out.push([String(i.sk).slice(2), JSON.parse(String(i.node)) as NodeState]);
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
