// TaskQueue on SQS: one standard queue per priority level (1–5), drained most urgent first, with
// DynamoDB task items as the source of truth (a message is only a wake-up for a task id).
//
// - Claim: receive from queue 5, then 4, ... (never more messages than free local slots), then a
//   conditional queued → active write on the task item. Only that write decides who runs a task,
//   so duplicate messages are harmless.
// - Caps: per-algorithm maxWorkers is a conditional counting semaphore in DynamoDB
//   (DynamoJobStore.acquireSlot); the global cap is the fleet size × slots per worker.
// - Leases: a claimed message stays invisible and its task's `leaseUntil` is extended by a
//   heartbeat every `heartbeatMs`. A failed extension means the task was stopped: its run is
//   aborted. A message that reappears while its task is active with an expired lease means the
//   worker died: it is reported as crashed (retry policy decides) and the message is deleted.
// - Aging: on enqueue, a task below priority 5 also gets delayed copies in the queues above it
//   (delay = agingMs × levels, at most SQS's 15 minutes); whichever copy is claimed first runs
//   the task, the others find it no longer queued and are dropped.
// - Poison messages (unreadable body, unknown task) are left alone, so the queue's redrive policy
//   moves them to the DLQ after maxReceiveCount receives.
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { ClaimDecision, ClaimedTask, QueuedTask, TaskQueue } from '../../ports/task-queue.ts';
import type { DynamoJobStore } from './dynamo-store.ts';

export const PRIORITIES = [5, 4, 3, 2, 1] as const;
/** SQS's largest per-message delay. */
const MAX_DELAY_SECONDS = 900;

export interface TaskMessage extends QueuedTask {
  /** The queue level this copy was sent to (> priority for an aged copy). */
  level: number;
}

export interface SqsLease {
  receipt: string;
  queueUrl: string;
  timer?: ReturnType<typeof setInterval>;
}

export interface SqsTaskQueueOptions {
  sqs: SQSClient;
  /** Queue URL per priority level 1..5. */
  urls: Record<number, string>;
  store: DynamoJobStore;
  /** How long a claimed task is invisible/leased without a heartbeat (default 60 s). */
  leaseMs?: number;
  /** Heartbeat period (default 5 s): also how fast a stop reaches a running task. */
  heartbeatMs?: number;
  /** One priority level is gained per this many ms of waiting (default 60 s; 0 = no aging). */
  agingMs?: number;
  /** The cap of an algorithm (maxWorkers), if any. */
  capOf?: (algorithm: string) => Promise<number | undefined>;
  /** Free local slots: never receive more messages than can start now. */
  capacity?: () => number;
  /** A claimed task was stopped (its lease could not be extended): abort its run. */
  onLost?: (taskId: string) => void;
  /** A task's previous worker died (lease expired): report it as crashed. */
  onExpired?: (task: QueuedTask) => Promise<void>;
  clock?: () => number;
}

export class SqsTaskQueue implements TaskQueue {
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly agingMs: number;
  private readonly now: () => number;
  private held = new Map<string, SqsLease>();
  private readonly opts: SqsTaskQueueOptions;
  /** Algorithms the claimer skipped because it had not loaded them yet (see queuedAlgorithms). */
  private skipped = new Set<string>();

  constructor(opts: SqsTaskQueueOptions) {
    this.opts = { ...opts };
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.agingMs = opts.agingMs ?? 60_000;
    this.now = opts.clock ?? Date.now;
  }

  private url(level: number): string {
    const u = this.opts.urls[level];
    if (!u) throw new Error(`no task queue URL for priority ${level}`);
    return u;
  }

  // ----------------------------------------------------------------------------- enqueue
  async enqueue(tasks: QueuedTask[]): Promise<void> {
    const byQueue = new Map<number, { body: TaskMessage; delay: number }[]>();
    const add = (level: number, body: TaskMessage, delay: number) => {
      const list = byQueue.get(level) ?? [];
      list.push({ body, delay });
      byQueue.set(level, list);
    };
    for (const t of tasks) {
      const p = Math.min(5, Math.max(1, Math.round(t.priority)));
      add(p, { ...t, level: p }, 0);
      if (this.agingMs <= 0) continue;
      for (let level = p + 1; level <= 5; level++) {
        const delay = Math.ceil(((level - p) * this.agingMs) / 1000);
        if (delay > MAX_DELAY_SECONDS) break;
        add(level, { ...t, level }, delay);
      }
    }
    const sends: Promise<void>[] = [];
    for (const [level, list] of byQueue) {
      for (let i = 0; i < list.length; i += 10) {
        sends.push(this.sendBatch(this.url(level), list.slice(i, i + 10)));
      }
    }
    // Bounded fan-out: at most 16 batches in flight.
    for (let i = 0; i < sends.length; i += 16) await Promise.all(sends.slice(i, i + 16));
  }

  private async sendBatch(queueUrl: string, list: { body: TaskMessage; delay: number }[]): Promise<void> {
    let entries = list.map((m, i) => ({
      Id: String(i),
      MessageBody: JSON.stringify(m.body),
      ...(m.delay ? { DelaySeconds: m.delay } : {}),
    }));
    for (let attempt = 0; entries.length; attempt++) {
      const r = await this.opts.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
      );
      const failed = new Set((r.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length && attempt > 5) throw new Error(`SQS refused ${entries.length} task messages`);
    }
  }

  // ----------------------------------------------------------------------------- claim
  async claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<ClaimedTask[]> {
    const claimed: ClaimedTask[] = [];
    const room = () => Math.min(max, this.opts.capacity?.() ?? max) - claimed.length;
    for (const level of PRIORITIES) {
      while (room() > 0) {
        const r = await this.opts.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.url(level),
            MaxNumberOfMessages: Math.min(10, room()),
            WaitTimeSeconds: 0,
            VisibilityTimeout: Math.ceil(this.leaseMs / 1000),
            AttributeNames: ['All'],
          }),
        );
        const messages = r.Messages ?? [];
        if (messages.length === 0) break;
        let stop = false;
        for (const m of messages) {
          if (stop) {
            await this.giveBack(this.url(level), m);
            continue;
          }
          const got = await this.claimOne(this.url(level), m, accept, at);
          if (got === 'stop') stop = true;
          else if (got) claimed.push(got);
        }
        if (stop) return claimed;
      }
    }
    return claimed;
  }

  private async claimOne(
    queueUrl: string,
    m: Message,
    accept: (t: QueuedTask) => ClaimDecision,
    at: number,
  ): Promise<ClaimedTask | 'stop' | undefined> {
    let body: TaskMessage;
    try {
      body = JSON.parse(m.Body ?? '') as TaskMessage;
      if (typeof body.taskId !== 'string' || typeof body.algorithmName !== 'string') throw new Error('shape');
    } catch {
      return undefined; // poison: left invisible; the redrive policy moves it to the DLQ
    }
    const task: QueuedTask = {
      taskId: body.taskId,
      jobId: body.jobId,
      nodeName: body.nodeName,
      algorithmName: body.algorithmName,
      priority: body.priority,
      queuedAt: body.queuedAt,
    };
    const decision = accept(task);
    if (decision === 'skip') this.skipped.add(task.algorithmName);
    if (decision !== 'take') {
      await this.giveBack(queueUrl, m);
      return decision === 'stop' ? 'stop' : undefined;
    }
    const cap = await this.opts.capOf?.(task.algorithmName);
    if (cap !== undefined && !(await this.opts.store.acquireSlot(task.algorithmName, cap))) {
      await this.giveBack(queueUrl, m, 1);
      return undefined;
    }
    const record = await this.opts.store.claimTask(task.taskId, at, at + this.leaseMs, cap !== undefined);
    if (!record) {
      if (cap !== undefined) await this.opts.store.releaseSlot(task.algorithmName);
      await this.notClaimed(queueUrl, m, task, at);
      return undefined;
    }
    const lease: SqsLease = { receipt: m.ReceiptHandle ?? '', queueUrl };
    this.held.set(task.taskId, lease);
    lease.timer = setInterval(() => void this.heartbeat(task.taskId, lease), this.heartbeatMs);
    lease.timer.unref();
    return { ...task, lease: record };
  }

  /** The task could not be claimed: a duplicate, an aged copy, or its worker died. */
  private async notClaimed(queueUrl: string, m: Message, task: QueuedTask, at: number): Promise<void> {
    const lease = await this.opts.store.taskLease(task.taskId);
    if (!lease) return; // unknown task: poison, left for the DLQ
    if (lease.status === 'active' && lease.leaseUntil > at) {
      // Someone holds it (a duplicate delivery of a live message): look again after its lease.
      await this.changeVisibility(queueUrl, m, Math.ceil((lease.leaseUntil - at) / 1000) + 1);
      return;
    }
    if (lease.status === 'active') await this.opts.onExpired?.(task);
    await this.delete(queueUrl, m.ReceiptHandle ?? '');
  }

  /** Returns a message to the queue (not runnable here now), visible again after `delay` s. */
  private async giveBack(queueUrl: string, m: Message, delay = 0): Promise<void> {
    await this.changeVisibility(queueUrl, m, delay);
  }

  private async changeVisibility(queueUrl: string, m: Message, seconds: number): Promise<void> {
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: Math.min(43_200, Math.max(0, seconds)),
        }),
      );
    } catch {
      // The receipt expired: the message is visible again anyway.
    }
  }

  private async delete(queueUrl: string, receipt: string): Promise<void> {
    try {
      await this.opts.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    } catch {
      // Already gone (or the receipt expired and someone else will see the task is final).
    }
  }

  private async heartbeat(taskId: string, lease: SqsLease): Promise<void> {
    if (this.held.get(taskId) !== lease) return;
    try {
      const alive = await this.opts.store.extendLease(taskId, this.now() + this.leaseMs);
      if (!alive) {
        this.opts.onLost?.(taskId);
        return;
      }
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: lease.queueUrl,
          ReceiptHandle: lease.receipt,
          VisibilityTimeout: Math.ceil(this.leaseMs / 1000),
        }),
      );
    } catch (err) {
      process.emitWarning(`heartbeat of task ${taskId}: ${(err as Error).message}`);
    }
  }

  async settle(t: ClaimedTask): Promise<void> {
    const lease = this.held.get(t.taskId);
    if (!lease) return;
    this.held.delete(t.taskId);
    if (lease.timer) clearInterval(lease.timer);
    await this.delete(lease.queueUrl, lease.receipt);
  }

  /** Late binding of the claimer's callbacks (the worker's dispatcher exists after the queue). */
  bind(cb: Pick<SqsTaskQueueOptions, 'capacity' | 'onLost'>): void {
    if (cb.capacity) this.opts.capacity = cb.capacity;
    if (cb.onLost) this.opts.onLost = cb.onLost;
  }

  /** Stops every heartbeat without deleting messages (SIGKILL-like: leases simply expire). */
  abandon(): void {
    for (const l of this.held.values()) if (l.timer) clearInterval(l.timer);
    this.held.clear();
  }

  get heldCount(): number {
    return this.held.size;
  }

  // ----------------------------------------------------------------------------- status
  /** Aging happens through delayed copies sent at enqueue time. */
  async age(): Promise<void> {}

  /** Approximate number of visible messages over all priority queues (includes aged copies). */
  async depth(): Promise<number> {
    let n = 0;
    for (const level of PRIORITIES) {
      const r = await this.opts.sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: this.url(level),
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      n += Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
    }
    return n;
  }

  /** Algorithms seen in messages since the last call (the claimer loads their definitions). */
  async queuedAlgorithms(): Promise<string[]> {
    const names = [...this.skipped];
    this.skipped.clear();
    return names;
  }

  /** Caps are enforced by the slot semaphore at claim time, not by the claimer's view. */
  async activeByAlgorithm(): Promise<Map<string, number>> {
    return new Map();
  }
}
