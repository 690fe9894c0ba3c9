// TaskQueue on SQS: one standard queue per priority level (1–5), drained most urgent first. A
// message carries the whole task (its input too, when small), so starting a task costs no
// database write: the message's visibility timeout is the task's lease.
//
// - Claim: receive from queue 5, then 4, ... in batches of up to 10; a queue found empty is
//   skipped for 250 ms (1 s while the worker has work: sqs-empty-queues.ts), so a more urgent task
//   sent by another process can wait that long before it overtakes. Messages beyond the free local slots (at most `prefetch` of them) are kept,
//   under their lease, for the next claims: a worker finishing a task starts the next one without
//   a round trip to SQS (what a consumer receiving batches of 10 does against real SQS too).
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
import { ChangeMessageVisibilityCommand, type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { ClaimDecision, ClaimedTask, QueuedTask, TaskQueue } from '../../ports/task-queue.ts';
import { EmptyQueues } from './sqs-empty-queues.ts';
import { ageTaskQueues, queueBacklog, queuesQuiet } from './sqs-queue-ops.ts';
import { PendingSettles } from './sqs-settles.ts';
import {
  deleteMessage,
  PRIORITIES,
  parseTaskMessage,
  resend,
  sendTaskBatches,
  type TaskMessage,
} from './sqs-task-messages.ts';
import type { Buffered, SqsLease, SqsTaskQueueOptions } from './sqs-task-queue-options.ts';

export { PRIORITIES, type TaskMessage } from './sqs-task-messages.ts';
export type { SqsLease, SqsTaskQueueOptions } from './sqs-task-queue-options.ts';

export class SqsTaskQueue implements TaskQueue {
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  private readonly now: () => number;
  private held = new Map<string, SqsLease>();
  private readonly opts: SqsTaskQueueOptions;
  /** Algorithms the claimer skipped because it had not loaded them yet (see queuedAlgorithms). */
  private skipped = new Set<string>();
  private empty = new EmptyQueues();
  /** Received ahead of free slots (see `prefetch`), most urgent first when claimed. */
  private buffered: Buffered[] = [];
  /** When age() last looked at the queues. */
  private agedAt: number | undefined;
  /** Finished tasks whose outcome and message delete are on their way (see sqs-settles.ts). */
  readonly settles: PendingSettles;

  constructor(opts: SqsTaskQueueOptions) {
    this.opts = { ...opts };
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.heartbeatMs = opts.heartbeatMs ?? 5_000;
    this.now = opts.clock ?? Date.now;
    this.settles = new PendingSettles(Math.max(16, 4 * (opts.prefetch ?? 0)));
  }

  private url(level: number): string {
    const u = this.opts.urls[level];
    if (!u) throw new Error(`no task queue URL for priority ${level}`);
    return u;
  }

  // ----------------------------------------------------------------------------- enqueue
  async enqueue(tasks: QueuedTask[]): Promise<void> {
    // An algorithm with its own queue gets its tasks there, whatever their priority.
    const own = new Map<string, string | undefined>();
    const queueOf = this.opts.queueOf;
    if (queueOf)
      for (const t of tasks)
        if (!own.has(t.algorithmName)) own.set(t.algorithmName, await queueOf(t.algorithmName));
    const byUrl = new Map<string, TaskMessage[]>();
    for (const t of tasks) {
      const level = Math.min(5, Math.max(1, Math.round(t.priority)));
      const url = own.get(t.algorithmName) ?? this.url(level);
      const list = byUrl.get(url) ?? [];
      list.push({ ...t, attempt: t.attempt ?? 1, level });
      byUrl.set(url, list);
      this.empty.notEmpty(level);
    }
    await sendTaskBatches(this.opts.sqs, byUrl);
  }

  // ----------------------------------------------------------------------------- claim
  async claim(max: number, accept: (t: QueuedTask) => ClaimDecision, at: number): Promise<ClaimedTask[]> {
    const claimed: ClaimedTask[] = [];
    const room = () => Math.min(max, this.opts.capacity?.() ?? max) - claimed.length;
    const prefetch = this.opts.prefetch ?? 0;
    try {
      for (const level of PRIORITIES) {
        // Kept messages of this level (or more urgent) first: no request, and they came first. A
        // kept message waits only for the more urgent queues, which were polled before it.
        if ((await this.takeBuffered(claimed, room, accept, at, level)) === 'stop') return claimed;
        // A queue found empty is skipped a while (sqs-empty-queues.ts): polling five queues per
        // round would otherwise cost four empty receives for every useful one.
        if (this.empty.skip(level, at)) continue;
        while (room() > 0) {
          const want = Math.min(10, room() + prefetch - this.buffered.length);
          if (want <= 0) break; // enough is held here already
          const r = await this.opts.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: this.url(level),
              MaxNumberOfMessages: want,
              WaitTimeSeconds: 0,
              VisibilityTimeout: Math.ceil(this.leaseMs / 1000),
              AttributeNames: ['All'],
            }),
          );
          const messages = r.Messages ?? [];
          if (messages.length === 0) {
            this.empty.found(level, at);
            break;
          }
          this.empty.gaveMessages(level, at);
          for (const m of messages) await this.keep(this.url(level), level, m);
          if ((await this.takeBuffered(claimed, room, accept, at, level)) === 'stop') return claimed;
        }
      }
    } finally {
      this.empty.endRound(at, claimed.length > 0 || this.buffered.length > 0);
    }
    return claimed;
  }

  /** A received message into the buffer (a message another worker lost is reported at once). */
  private async keep(queueUrl: string, level: number, m: Message): Promise<void> {
    const body = parseTaskMessage(m);
    if (!body) return; // poison: left invisible; the redrive policy moves it to the DLQ
    if (this.held.has(body.taskId) || this.buffered.some((b) => b.body.taskId === body.taskId)) {
      // A second message of a task held here (sent again by a sweep): one run of it, not two.
      await deleteMessage(this.opts.sqs, queueUrl, m.ReceiptHandle ?? '');
      return;
    }
    if (Number(m.Attributes?.ApproximateReceiveCount ?? 1) > 1) {
      // Received before and not deleted: the worker that held it died (or lost its lease).
      const cap = await this.opts.capOf?.(body.algorithmName);
      if (cap !== undefined) await this.opts.slots.release(body.algorithmName);
      await this.opts.onExpired?.({ ...body, attempt: body.attempt ?? 1 });
      await deleteMessage(this.opts.sqs, queueUrl, m.ReceiptHandle ?? '');
      return;
    }
    const entry: Buffered = {
      queueUrl,
      level,
      message: m,
      body,
      skips: 0,
      timer: setInterval(() => void this.extend(queueUrl, m.ReceiptHandle ?? ''), this.heartbeatMs),
    };
    entry.timer.unref();
    // Most urgent first; within a level, in the order received.
    const at = this.buffered.findIndex((b) => b.level < level);
    if (at < 0) this.buffered.push(entry);
    else this.buffered.splice(at, 0, entry);
  }

  /**
   * Offers buffered messages of `minLevel` or above to `accept` while there is room; 'stop' when
   * it said so.
   */
  private async takeBuffered(
    claimed: ClaimedTask[],
    room: () => number,
    accept: (t: QueuedTask) => ClaimDecision,
    at: number,
    minLevel: number,
  ): Promise<'stop' | undefined> {
    let i = 0;
    while (i < this.buffered.length && room() > 0) {
      const b = this.buffered[i] as Buffered;
      if (b.level < minLevel) break; // most urgent first: the rest are below it too
      const got = await this.claimOne(b, accept, at);
      if (got === 'stop') return 'stop'; // it stays buffered for the next claim
      // Skipped once (often: its algorithm was not loaded yet, which the claimer does next), it
      // is offered again at the next claim; skipped twice (a cap, a paused job), it goes back.
      if (got === 'skip' && b.skips++ === 0) {
        i++;
        continue;
      }
      this.buffered.splice(i, 1);
      clearInterval(b.timer);
      // A fresh copy, not made visible again: see the header on receive counts.
      if (got === 'skip' || got === 'capped') await resend(this.opts.sqs, b.queueUrl, b.message, 1);
      else claimed.push(got);
    }
    return undefined;
  }

  /** Extends the visibility of a buffered message (its lease while it waits for a slot). */
  private async extend(queueUrl: string, receipt: string): Promise<void> {
    try {
      await this.opts.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: receipt,
          VisibilityTimeout: Math.ceil(this.leaseMs / 1000),
        }),
      );
    } catch (err) {
      process.emitWarning(`keeping a received task message: ${(err as Error).message}`);
    }
  }

  /**
   * Puts every buffered message back as a fresh copy (a draining worker): they were never
   * started, so they must not come back as "lost by a worker".
   */
  async returnBuffered(): Promise<void> {
    const all = this.buffered.splice(0);
    for (const b of all) clearInterval(b.timer);
    await Promise.all(all.map((b) => resend(this.opts.sqs, b.queueUrl, b.message)));
  }

  /** Messages received ahead of free slots, waiting in this process. */
  get bufferedCount(): number {
    return this.buffered.length;
  }

  private async claimOne(
    b: Buffered,
    accept: (t: QueuedTask) => ClaimDecision,
    at: number,
  ): Promise<ClaimedTask | 'stop' | 'skip' | 'capped'> {
    const { body, message: m, queueUrl } = b;
    const attempt = body.attempt ?? 1;
    const decision = accept(body);
    if (decision === 'skip') {
      this.skipped.add(body.algorithmName);
      return 'skip';
    }
    if (decision === 'stop') return 'stop';
    const cap = await this.opts.capOf?.(body.algorithmName);
    if (cap !== undefined && !(await this.opts.slots.acquire(body.algorithmName, cap))) return 'capped';
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

  /** Extends the lease, then reads the task: stopped meanwhile, it is aborted (even if SQS refused). */
  private async heartbeat(taskId: string, lease: SqsLease): Promise<void> {
    if (this.held.get(taskId) !== lease) return;
    await this.extend(lease.queueUrl, lease.receipt); // a refusal is warned of, not thrown
    try {
      const t = await this.opts.leases.taskLease(taskId);
      if (t && t.status !== 'queued' && t.status !== 'active') this.opts.onLost?.(taskId);
    } catch (err) {
      process.emitWarning(`heartbeat of task ${taskId}: ${(err as Error).message}`);
    }
  }

  /**
   * Deletes the message once the task's outcome is sent (see outcomeSending), off the slot: the
   * slot is free when this resolves, the delete rides in the next batch (sqs-settles.ts).
   */
  async settle(t: ClaimedTask): Promise<void> {
    const lease = this.held.get(t.taskId);
    if (!lease) return this.settles.forget(t.taskId);
    this.held.delete(t.taskId);
    if (lease.timer) clearInterval(lease.timer);
    const remove = async () => {
      if (this.opts.batcher) await this.opts.batcher.delete(lease.queueUrl, lease.receipt);
      else await deleteMessage(this.opts.sqs, lease.queueUrl, lease.receipt);
      if (lease.slot) await this.opts.slots.release(t.algorithmName);
    };
    // Its lease is extended until the delete (sqs-settles.ts).
    const keepAlive = { everyMs: this.heartbeatMs, extend: () => this.extend(lease.queueUrl, lease.receipt) };
    await this.settles.settle(t.taskId, remove, keepAlive);
  }

  /** The outcome of a held task is on its way to the status queue: settle() deletes after it. */
  outcomeSending(taskId: string, sent: Promise<void>): void {
    if (this.held.has(taskId)) this.settles.outcomeSending(taskId, sent);
  }

  /** A fresh copy of the message (same attempt, receive count 1), visible after delayMs. */
  async release(t: ClaimedTask, delayMs: number): Promise<void> {
    this.settles.forget(t.taskId);
    const lease = this.held.get(t.taskId);
    if (!lease) return;
    this.held.delete(t.taskId);
    if (lease.timer) clearInterval(lease.timer);
    const level = PRIORITIES.find((l) => this.opts.urls[l] === lease.queueUrl) ?? 3;
    const { lease: _lease, ...task } = t;
    const body = JSON.stringify({ ...task, level });
    const delay = Math.min(900, Math.ceil(delayMs / 1000));
    await resend(this.opts.sqs, lease.queueUrl, { Body: body, ReceiptHandle: lease.receipt }, delay);
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
    this.settles.abandon();
    for (const l of this.held.values()) if (l.timer) clearInterval(l.timer);
    this.held.clear();
    for (const b of this.buffered.splice(0)) clearInterval(b.timer);
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
    // Every look re-sends what it saw (to the back of its queue): a look per tick would churn the
    // queues of a fast tick (`serve --backend aws`: every second) for promotions due once per
    // agingMs. A quarter of it is soon enough.
    if (this.agedAt !== undefined && at - this.agedAt < agingMs / 4) return 0;
    this.agedAt = at;
    return ageTaskQueues(this.opts.sqs, (l) => this.url(l), at, agingMs, batch);
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
    return queuesQuiet(this.opts.sqs, [
      ...PRIORITIES.map((l) => this.url(l)),
      ...(this.opts.relatedUrls ?? []),
      ...((await this.opts.ownQueues?.()) ?? []),
    ]);
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
    return queueBacklog(
      this.opts.sqs,
      PRIORITIES.map((l) => this.url(l)),
    );
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
