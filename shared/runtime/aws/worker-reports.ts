// Worker activity on AWS, for `GET /api/v1/workers` and the dashboard's workers page: each worker
// (an ECS task, or `serve --backend aws`'s worker process) counts what it runs from its own
// engine's feed (engine/worker-activity.ts, as the embedded engine does) and puts that view into
// the registry table every few seconds (WORKERS / <workerId>, expiring by TTL); the api function
// reads the recent ones and adds them up, keeping each worker's line.
import { hostname } from 'node:os';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WorkerActivityView } from '../../api/workers.ts';
import type { EngineFeed } from '../../engine/feed.ts';
import { WorkerActivity } from '../../engine/worker-activity.ts';

const PK = 'WORKERS';
/** A report older than this is a worker that is gone. */
export const WORKER_REPORT_STALE_MS = 30_000;
/** How often a worker puts its report. */
export const WORKER_REPORT_EVERY_MS = 5000;

/** One worker's line in the aggregated view. */
export interface WorkerLine {
  workerId: string;
  slots?: number;
  running: number;
  tasksDone: number;
  tasksFailed: number;
  tasksPerSecond: number;
  ioBytesPerSecond?: number;
  updatedAt: string;
}

/** Puts this worker's activity every WORKER_REPORT_EVERY_MS until stopped (then removes it). */
export class WorkerReporter {
  readonly workerId: string;
  private readonly activity: WorkerActivity;
  private timer: NodeJS.Timeout | undefined;
  private last: Promise<void> = Promise.resolve();

  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    feed: EngineFeed,
    slots: number,
    opts: { workerId?: string; everyMs?: number } = {},
  ) {
    this.workerId = opts.workerId ?? `${hostname()}-${process.pid}`;
    this.activity = new WorkerActivity(feed, slots);
    this.timer = setInterval(() => this.report(), opts.everyMs ?? WORKER_REPORT_EVERY_MS);
    this.timer.unref();
    this.report();
  }

  /** Puts the current view now (one put at a time; a failed put waits for the next round). */
  report(): Promise<void> {
    this.last = this.last.then(() =>
      this.dynamo
        .send(
          new PutCommand({
            TableName: this.table,
            Item: {
              pk: PK,
              sk: this.workerId,
              view: this.activity.view(),
              updatedAt: Date.now(),
              ttl: Math.floor(Date.now() / 1000) + 3600,
            },
          }),
        )
        .then(
          () => {},
          () => {},
        ),
    );
    return this.last;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.last;
    await this.dynamo
      .send(new DeleteCommand({ TableName: this.table, Key: { pk: PK, sk: this.workerId } }))
      .catch(() => {});
  }
}

/** The workers that reported in the last WORKER_REPORT_STALE_MS, added up, each with its line. */
export async function workerActivityOnAws(
  dynamo: DynamoDBDocumentClient,
  table: string,
  now = Date.now(),
): Promise<WorkerActivityView & { workers: WorkerLine[] }> {
  const items: { sk: string; view: WorkerActivityView; updatedAt: number }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const r = await dynamo.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': PK },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const i of r.Items ?? []) items.push(i as (typeof items)[number]);
    start = r.LastEvaluatedKey;
  } while (start);
  const live = items.filter((i) => now - i.updatedAt <= WORKER_REPORT_STALE_MS);
  const sum = (f: (v: WorkerActivityView) => number | undefined) =>
    live.reduce((a, i) => a + (f(i.view) ?? 0), 0);
  const since = live.map((i) => i.view.since).sort()[0];
  const anyBytes = live.some((i) => i.view.ioBytes !== undefined);
  return {
    slots: sum((v) => v.slots),
    running: live.flatMap((i) => i.view.running.map((r) => ({ ...r, workerId: i.sk }))),
    tasksDone: sum((v) => v.tasksDone),
    tasksFailed: sum((v) => v.tasksFailed),
    tasksPerSecond: sum((v) => v.tasksPerSecond),
    ...(anyBytes ? { ioBytes: sum((v) => v.ioBytes), ioBytesPerSecond: sum((v) => v.ioBytesPerSecond) } : {}),
    since: since ?? new Date(now).toISOString(),
    workers: live.map((i) => ({
      workerId: i.sk,
      ...(i.view.slots !== undefined ? { slots: i.view.slots } : {}),
      running: i.view.running.length,
      tasksDone: i.view.tasksDone,
      tasksFailed: i.view.tasksFailed,
      tasksPerSecond: i.view.tasksPerSecond,
      ...(i.view.ioBytesPerSecond !== undefined ? { ioBytesPerSecond: i.view.ioBytesPerSecond } : {}),
      updatedAt: new Date(i.updatedAt).toISOString(),
    })),
  };
}
