// The task messages of the SQS priority queues: one queue per priority level (1–5), a message
// body that carries the whole task (its input too, when small), and the few SQS calls every user
// of those queues needs (send a batch with retries, put a message back as a fresh copy, delete,
// count what is waiting or in flight).
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { QueuedTask } from '../../ports/task-queue.ts';

export const PRIORITIES = [5, 4, 3, 2, 1] as const;

export interface TaskMessage extends QueuedTask {
  /** The queue level this message was sent to (> priority once aged). */
  level: number;
}

/** Largest message body sent with the input inline (SQS allows 256 KiB). */
const MAX_INLINE_BODY = 200 * 1024;

function body(m: TaskMessage): string {
  const text = JSON.stringify(m);
  if (text.length <= MAX_INLINE_BODY) return text;
  const { input: _input, ...rest } = m;
  return JSON.stringify(rest); // the worker reads the input from the task item
}

/** The task a message carries; undefined for a poison message (left for the DLQ). */
export function parseTaskMessage(m: Message): TaskMessage | undefined {
  try {
    const t = JSON.parse(m.Body ?? '') as TaskMessage;
    return typeof t.taskId === 'string' && typeof t.algorithmName === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

/** Sends up to 10 task messages in one request, retrying the entries SQS refused. */
export async function sendTaskBatch(sqs: SQSClient, queueUrl: string, list: TaskMessage[]): Promise<void> {
  let entries = list.map((m, i) => ({ Id: String(i), MessageBody: body(m) }));
  for (let attempt = 0; entries.length; attempt++) {
    const r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    const failed = new Set((r.Failed ?? []).map((f) => f.Id));
    entries = entries.filter((e) => failed.has(e.Id));
    if (entries.length && attempt > 5) throw new Error(`SQS refused ${entries.length} task messages`);
    if (entries.length) await new Promise((res) => setTimeout(res, 50 * 2 ** attempt));
  }
}

export async function deleteMessage(sqs: SQSClient, queueUrl: string, receipt: string): Promise<void> {
  try {
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
  } catch {
    // Already gone, or the receipt expired: the outcome is applied once per attempt anyway.
  }
}

/**
 * Puts a message back as a fresh copy (receive count 1), visible after `delay` s, so receive
 * counts keep meaning "lost by a worker".
 */
export async function resend(sqs: SQSClient, queueUrl: string, m: Message, delay = 0): Promise<void> {
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [{ Id: '0', MessageBody: m.Body ?? '', ...(delay ? { DelaySeconds: delay } : {}) }],
    }),
  );
  await deleteMessage(sqs, queueUrl, m.ReceiptHandle ?? '');
}

/** Sums approximate message counts over some queues, per attribute asked for. */
export async function countMessages(
  sqs: SQSClient,
  urls: string[],
  attributes: QueueAttributeName[],
): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.fromEntries(attributes.map((a) => [a, 0]));
  for (const QueueUrl of urls) {
    const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: attributes }));
    for (const a of attributes) out[a] = (out[a] ?? 0) + Number(r.Attributes?.[a] ?? 0);
  }
  return out;
}

/** The messages of each queue URL in batches of 10, at most 16 batches in flight. */
export async function sendTaskBatches(sqs: SQSClient, byUrl: Map<string, TaskMessage[]>): Promise<void> {
  const batches: [string, TaskMessage[]][] = [];
  for (const [url, list] of byUrl) {
    for (let i = 0; i < list.length; i += 10) batches.push([url, list.slice(i, i + 10)]);
  }
  for (let i = 0; i < batches.length; i += 16) {
    await Promise.all(batches.slice(i, i + 16).map(([url, list]) => sendTaskBatch(sqs, url, list)));
  }
}
