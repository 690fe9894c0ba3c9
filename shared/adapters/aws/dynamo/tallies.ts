// Node tallies on DynamoDB: TALLY_SHARDS small counter items per node, so a 100,000-item fan-in
// has no hot item and no item that grows with the batch. Only the caller whose conditional task
// write succeeded counts the task: one atomic ADD on one shard (calls for one node within a few ms
// are coalesced, rotating over the shards), then one strongly consistent read of the node's
// shards, whose sum every caller gets. A crash between the task write and the ADD can only
// under-count, never double-count: the recovery sweep rebuilds the shards from the task items.
import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FINAL_TASK_STATUSES, type TaskOutcomeKind, type TaskStatus } from '../../../ports/job-state.ts';
import type { NodeTally } from '../../../ports/tasks.ts';
import { TALLY_SHARDS } from '../dynamo-schema.ts';
import { batchPut, type Item, type Retention, tallyKey } from './items.ts';

/** How long counts of one node wait to be coalesced into one counter write. */
const COUNT_WINDOW_MS = 20;
/** Nodes whose last read sums are kept for displays (recentTallies); the oldest goes first. */
const MAX_RECENT = 1000;

export type NodeTotals = NodeTally & { created: number };

interface PendingCount {
  jobId: string;
  node: string;
  add: NodeTally;
  waiters: { resolve: (t: NodeTally) => void; reject: (err: unknown) => void }[];
}

export class DynamoTallies {
  private pending = new Map<string, PendingCount>();
  /** `jobId#node` → the sums of its last read and when it was made. */
  private recent = new Map<string, { at: number; totals: NodeTotals }>();
  private nextShard = Math.floor(Math.random() * TALLY_SHARDS);

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retention: Retention,
  ) {}

  /** Counts one finished task; resolves with the node's totals read after this count was added. */
  count(jobId: string, node: string, outcome: TaskOutcomeKind): Promise<NodeTally> {
    const id = `${jobId}#${node}`;
    let p = this.pending.get(id);
    if (!p) {
      const fresh: PendingCount = { jobId, node, add: { succeeded: 0, failed: 0, stopped: 0 }, waiters: [] };
      this.pending.set(id, fresh);
      setTimeout(() => void this.flush(id, fresh), COUNT_WINDOW_MS);
      p = fresh;
    }
    p.add[outcome]++;
    const mine = p;
    return new Promise((resolve, reject) => mine.waiters.push({ resolve, reject }));
  }

  private async flush(id: string, p: PendingCount): Promise<void> {
    if (this.pending.get(id) === p) this.pending.delete(id);
    try {
      const parts = (['succeeded', 'failed', 'stopped'] as const).filter((k) => p.add[k] > 0);
      const shard = this.nextShard++ % TALLY_SHARDS;
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
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

  /** Adds `created` tasks per shard (an expansion: one ADD per shard touched, not one per task). */
  async created(counts: { jobId: string; node: string; shard: number; n: number }[]): Promise<void> {
    await Promise.all(
      counts.map((e) =>
        this.client.send(
          new UpdateCommand({
            TableName: this.table,
            Key: tallyKey(e.jobId, e.node, e.shard),
            // Counter items expire with the job (a backstop: twice the retention after creation).
            UpdateExpression: 'ADD created :n SET #ttl = if_not_exists(#ttl, :ttl)',
            ExpressionAttributeNames: { '#ttl': 'ttl' },
            ExpressionAttributeValues: {
              ':n': e.n,
              ':ttl': this.retention.expiry(Date.now()) + this.retention.seconds,
            },
          }),
        ),
      ),
    );
  }

  /**
   * Sums for a display (exec/status): those this process read within `maxAgeMs` (a status poll
   * reads the job, whose running nodes' sums were just read), the others read now.
   */
  async recentTallies(jobId: string, nodes: string[], maxAgeMs: number): Promise<Map<string, NodeTotals>> {
    const out = new Map<string, NodeTotals>();
    const now = Date.now();
    const stale: string[] = [];
    for (const n of nodes) {
      const r = this.recent.get(`${jobId}#${n}`);
      if (r && now - r.at <= maxAgeMs) out.set(n, { ...r.totals });
      else stale.push(n);
    }
    if (stale.length) for (const [n, t] of await this.tallies(jobId, stale)) out.set(n, t);
    return new Map(nodes.map((n) => [n, out.get(n) as NodeTotals]));
  }

  /** Sums of the counter shards of some nodes (strongly consistent). */
  async tallies(jobId: string, nodes: string[]): Promise<Map<string, NodeTotals>> {
    const out = new Map<string, NodeTotals>();
    for (const n of nodes) out.set(n, { succeeded: 0, failed: 0, stopped: 0, created: 0 });
    const keys = nodes.flatMap((n) => Array.from({ length: TALLY_SHARDS }, (_, k) => tallyKey(jobId, n, k)));
    for (let i = 0; i < keys.length; i += 100) {
      let chunk: Record<string, unknown>[] = keys.slice(i, i + 100);
      while (chunk.length) {
        const r = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: chunk, ConsistentRead: true } } }),
        );
        for (const it of r.Responses?.[this.table] ?? []) {
          const t = out.get(String(it.pk).split('#')[2] ?? '');
          if (!t) continue;
          t.succeeded += Number(it.succeeded ?? 0);
          t.failed += Number(it.failed ?? 0);
          t.stopped += Number(it.stopped ?? 0);
          t.created += Number(it.created ?? 0);
        }
        chunk = (r.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    const at = Date.now();
    for (const [n, totals] of out) {
      const id = `${jobId}#${n}`;
      this.recent.delete(id);
      this.recent.set(id, { at, totals: { ...totals } });
    }
    while (this.recent.size > MAX_RECENT) this.recent.delete(this.recent.keys().next().value as string);
    return out;
  }

  /** Rewrites a node's counter shards from its task items (status and batchIndex of each). */
  async rebuild(jobId: string, node: string, items: Item[]): Promise<void> {
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
      if (FINAL_TASK_STATUSES.includes(st as TaskStatus)) s[st] = (s[st] ?? 0) + 1;
    }
    await batchPut(
      this.client,
      this.table,
      shards.map((s, k) => ({ ...tallyKey(jobId, node, k), ...s })),
    );
  }
}
