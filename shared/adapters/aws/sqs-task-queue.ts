// TaskQueue on SQS: one standard queue per priority level (1–5), drained most urgent first. A
// message carries the whole task (its input too, when small), so starting a task costs no
// database write: the message's visibility timeout is the task's lease.
//
// - Claim: receive from queue 5, then 4, ... (never more messages than free local slots); a
//   queue found empty is skipped for 250 ms, so a more urgent task sent by another process can
//   wait that long before it overtakes.
// - Lease: a held message's visibility is extended by a heartbeat every `heartbeatMs`, which also
//   reads the task's status: a task stopped meanwhile is aborted. A message received again
//   (ApproximateReceiveCount > 1) was lost by a worker that died: its attempt is reported as
//   crashed (the retry policy decides) and the message is deleted.
// - Outcomes are applied once per attempt (the task store's write is conditional on `attempts`),
//   so a duplicate message, or a slow worker whose lease had expired, cannot count twice.
// - Caps: per-algorithm maxWorkers is a fleet-wide counting semaphore (SlotLimits; DynamoDB in
//   production); the global cap is the fleet size × slots per worker.
// - Messages a worker cannot take now (cap, no slot) are re-sent and deleted rather than made
//   visible again, so receive counts keep meaning "lost by a worker".
// - Aging: `age` (the dispatch tick) moves messages that waited agingMs × levels up to the
//   queue of their effective priority.
// - Poison messages (unreadable body) are left alone: the redrive policy moves them to the DLQ.
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SlotLimits } from '../../ports/slots.ts';
import type { ClaimDecision, ClaimedTask, QueuedTask, TaskQueue } from '../../ports/task-queue.ts';
import type { TaskLeaseReader } from '../../ports/tasks.ts';
import type { SqsBatcher } from './sqs-batcher.ts';
import {
  countMessages,
  deleteMessage,
  PRIORITIES,
  parseTaskMessage,
  resend,
  sendTaskBatch,
  type TaskMessage,
} from './sqs-task-messages.ts';

export { PRIORITIES, type TaskMessage } from './sqs-task-messages.ts';

/** How long a queue found empty is not polled again by the same claimer (ms). */
const EMPTY_BACKOFF_MS = 250;

export interface SqsLease {
  receipt: string;
  queueUrl: string;
  startedAt: number;
  attempt: number;
  /** Holds a maxWorkers slot of its algorithm. */
  slot: boolean;
  timer?: ReturnType<typeof setInterval>;
}

export interface SqsTaskQueueOptions {
  sqs: SQSClient;
  /** Queue URL per priority level 1..5. */
  urls: Record<number, string>;
  /** Other queues whose messages are work about tasks (the status queue): see quiet(). */
  relatedUrls?: string[];
  /** The fleet-wide maxWorkers semaphore. */
  slots: SlotLimits;
  /** Where a heartbeat reads whether its task was stopped meanwhile. */
  leases: TaskLeaseReader;
  /** Visibility of a received message without a heartbeat (default 60 s). */
  leaseMs?: number;
  /** Heartbeat period (default 5 s): also how fast a stop reaches a running task. */
  heartbeatMs?: number;
  /** Coalesces the deletes of finished tasks' messages. */
  batcher?: SqsBatcher;
  /** The cap of an algorithm (maxWorkers), if any. */
  capOf?: (algorithm: string) => Promise<number | undefined>;
  /** Free local slots: never receive more messages than can start now. */
  capacity?: () => number;
  /** A held task was stopped (or its status can no longer be read): abort its run. */
  onLost?: (taskId: string) => void;
  /** A task's previous worker died (its message came back): report that attempt as crashed. */
  onExpired?: (task: QueuedTask & { attempt: number }) => Promise<void>;
  clock?: () => number;
}

export class SqsTaskQueue implements TaskQueue {
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private held = new Map<string, SqsLease>();
  private readonly opts: SqsTaskQueueOptions;
  /** Algorithms the claimer skipped because it had not loaded them yet (see queuedAlgorithms). */
  private skipped = new Set<string>();
  private emptyUntil = new Map<number, number>();

  constructor(opts: SqsTaskQueueOptions) {
    this.opts = { ...opts };
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.now = opts.clock ?? Date.now;
  }

  private url(level: number): string {
    const u = this.opts.urls[level];
    if (!u) throw new Error(`no task queue URL for priority ${level}`);
    return u;
  }

  // ----------------------------------------------------------------------------- enqueue
  async enqueue(tasks: QueuedTask[]): Promise<void> {
    const byLevel = new Map<number, TaskMessage[]>();
    for (const t of tasks) {
      const level = Math.min(5, Math.max(1, Math.round(t.priority)));
      const list = byLevel.get(level) ?? [];
      list.push({ ...t, attempt: t.attempt ?? 1, level });
      byLevel.set(level, list);
      this.emptyUntil.delete(level); // not empty any more, as far as this process knows
    }
    const batches: [number, TaskMessage[]][] = [];
    for (const [level, list] of byLevel) {
      for (let i = 0; i < list.length; i += 10) batches.push([level, list.slice(i, i + 10)]);
    }
    // Bounded fan-out: at most 16 batches in flight.
    for (let i = 0; i < batches.length; i += 16) {
      await Promise.all(
        batches.slice(i, i + 16).map(([level, list]) => sendTaskBatch(this.opts.sqs, this.url(level), list)),
      );
    }
  }

  // ----------------------------------------------------------------------------- claim
  async claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<ClaimedTask[]> {
    const claimed: ClaimedTask[] = [];
    const room = () => Math.min(max, this.opts.capacity?.() ?? max) - claimed.length;
    for (const level of PRIORITIES) {
      // A queue found empty is skipped for EMPTY_BACKOFF_MS: polling five queues per round would
      // otherwise cost four empty receives for every useful one.
      if ((this.emptyUntil.get(level) ?? 0) > at) continue;
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
        if (messages.length === 0) {
          this.emptyUntil.set(level, at + EMPTY_BACKOFF_MS);
          break;
        }
        let stop = false;
        for (const m of messages) {
          if (stop) {
            await resend(this.opts.sqs, this.url(level), m);
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
    const body = parseTaskMessage(m);
    if (!body) return undefined; // poison: left invisible; the redrive policy moves it to the DLQ
    const attempt = body.attempt ?? 1;
    if (Number(m.Attributes?.ApproximateReceiveCount ?? 1) > 1) {
      // Received before and not deleted: the worker that held it died (or lost its lease).
      const cap = await this.opts.capOf?.(body.algorithmName);
      if (cap !== undefined) await this.opts.slots.release(body.algorithmName);
      await this.opts.onExpired?.({ ...body, attempt });
      await deleteMessage(this.opts.sqs, queueUrl, m.ReceiptHandle ?? '');
      return undefined;
    }
    const decision = accept(body);
    if (decision === 'skip') this.skipped.add(body.algorithmName);
    if (decision !== 'take') {
      await resend(this.opts.sqs, queueUrl, m, decision === 'skip' ? 1 : 0);
      return decision === 'stop' ? 'stop' : undefined;
    }
    const cap = await this.opts.capOf?.(body.algorithmName);
    if (cap !== undefined && !(await this.opts.slots.acquire(body.algorithmName, cap))) {
      await resend(this.opts.sqs, queueUrl, m, 1);
      return undefined;
    }
    const lease: SqsLease = {
      receipt: m.ReceiptHandle ?? '',
      queueUrl,
      startedAt: at,
      attempt,
      slot: cap !== undefined,
    };
    this.held.set(body.taskId, lease);
    lease.timer = setInterval(() => void this.heartbeat(body.taskId, lease), this.heartbeatMs);
    lease.timer.unref();
    const { level: _level, ...task } = body;
    return { ...task, attempt, lease };
  }

  private async heartbeat(taskId: string, lease: SqsLease): Promise<void> {
    if (this.held.get(taskId) !== lease) return;
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: lease.queueUrl,
          ReceiptHandle: lease.receipt,
          VisibilityTimeout: Math.ceil(this.leaseMs / 1000),
        }),
      );
      const t = await this.opts.leases.taskLease(taskId);
      if (t && t.status !== 'queued' && t.status !== 'active') this.opts.onLost?.(taskId);
    } catch (err) {
      process.emitWarning(`heartbeat of task ${taskId}: ${(err as Error).message}`);
    }
  }

  async settle(t: ClaimedTask): Promise<void> {
    const lease = this.held.get(t.taskId);
    if (!lease) return;
    this.held.delete(t.taskId);
    if (lease.timer) clearInterval(lease.timer);
    if (this.opts.batcher) await this.opts.batcher.delete(lease.queueUrl, lease.receipt);
    else await deleteMessage(this.opts.sqs, lease.queueUrl, lease.receipt);
    if (lease.slot) await this.opts.slots.release(t.algorithmName);
  }

  /** A fresh copy of the message (same attempt, receive count 1), visible after delayMs. */
  async release(t: ClaimedTask, delayMs: number): Promise<void> {
    const lease = this.held.get(t.taskId);
    if (!lease) return;
    this.held.delete(t.taskId);
    if (lease.timer) clearInterval(lease.timer);
    const level = PRIORITIES.find((l) => this.opts.urls[l] === lease.queueUrl) ?? 3;
    const { lease: _lease, ...task } = t;
    await this.opts.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: lease.queueUrl,
        Entries: [
          {
            Id: '0',
            MessageBody: JSON.stringify({ ...task, level }),
            DelaySeconds: Math.min(900, Math.ceil(delayMs / 1000)),
          },
        ],
      }),
    );
    await deleteMessage(this.opts.sqs, lease.queueUrl, lease.receipt);
    if (lease.slot) await this.opts.slots.release(t.algorithmName);
  }

  async releaseSlot(t: ClaimedTask): Promise<void> {
    const lease = this.held.get(t.taskId);
    if (!lease?.slot) return;
    lease.slot = false; // settle() gives back nothing more
    await this.opts.slots.release(t.algorithmName);
  }

  /** Late binding of the claimer's callbacks (the worker's dispatcher exists after the queue). */
  bind(cb: Pick<SqsTaskQueueOptions, 'capacity' | 'onLost'>): void {
    if (cb.capacity) this.opts.capacity = cb.capacity;
    if (cb.onLost) this.opts.onLost = cb.onLost;
  }

  /** Stops every heartbeat without deleting messages (like SIGKILL: the leases expire). */
  abandon(): void {
    for (const l of this.held.values()) if (l.timer) clearInterval(l.timer);
    this.held.clear();
  }

  get heldCount(): number {
    return this.held.size;
  }

  /** The lease of a task this process holds. */
  leaseOf(taskId: string): SqsLease | undefined {
    return this.held.get(taskId);
  }

  /**
   * Aging (the dispatch tick): looks at up to `batch` messages at the head of each queue below 5
   * and moves those that waited agingMs × levels up to their effective priority. Inspected
   * messages are re-sent, so a look does not count as a lost lease.
   */
  async age(at: number, agingMs: number, batch = 10): Promise<number> {
    if (agingMs <= 0) return 0;
    let moved = 0;
    for (const level of [4, 3, 2, 1]) {
      const r = await this.opts.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url(level),
          MaxNumberOfMessages: Math.min(10, batch),
          WaitTimeSeconds: 0,
          VisibilityTimeout: 30,
        }),
      );
      for (const m of r.Messages ?? []) {
        const body = parseTaskMessage(m);
        if (!body) continue; // poison: left for the DLQ
        const effective = Math.min(5, body.priority + Math.floor((at - body.queuedAt) / agingMs));
        if (effective > level) {
          await sendTaskBatch(this.opts.sqs, this.url(effective), [{ ...body, level: effective }]);
          await deleteMessage(this.opts.sqs, this.url(level), m.ReceiptHandle ?? '');
          moved++;
        } else {
          await resend(this.opts.sqs, this.url(level), m);
        }
      }
    }
    return moved;
  }

  // ----------------------------------------------------------------------------- status
  /** A message is durable once sent; a claim holds no other state. */
  async durable(): Promise<void> {}

  /** A lost lease needs no sweep: its message comes back and is reported as crashed (onExpired). */
  async lostClaims(): Promise<QueuedTask[]> {
    return [];
  }

  /**
   * True when no task or outcome message exists anywhere (visible, in flight or delayed): then a
   * running node whose counters are short of its total lost a count or a message.
   */
  async quiet(): Promise<boolean> {
    const urls = [...PRIORITIES.map((l) => this.url(l)), ...(this.opts.relatedUrls ?? [])];
    const n = await countMessages(this.opts.sqs, urls, [
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);
    return Object.values(n).every((v) => v === 0);
  }

  /** Approximate number of visible messages over all priority queues (includes aged copies). */
  async depth(): Promise<number> {
    return (await this.backlog()).queued;
  }

  /**
   * Approximate messages waiting (visible) and leased by workers (in flight, i.e. tasks running)
   * over all priority queues: what the worker fleet is scaled on.
   */
  async backlog(): Promise<{ queued: number; running: number }> {
    const n = await countMessages(
      this.opts.sqs,
      PRIORITIES.map((l) => this.url(l)),
      ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    );
    return {
      queued: n.ApproximateNumberOfMessages ?? 0,
      running: n.ApproximateNumberOfMessagesNotVisible ?? 0,
    };
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
