// What SqsTaskQueue (sqs-task-queue.ts) does over all its queues at once: aging (the dispatch
// tick moves messages that waited up to their effective priority) and the message counts that
// say whether anything is left (quiet) and what the fleet is scaled on (backlog).
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  countMessages,
  deleteMessage,
  parseTaskMessage,
  resend,
  sendTaskBatch,
} from './sqs-task-messages.ts';

/**
 * Looks at up to `batch` messages at the head of each queue below 5 and moves those that waited
 * agingMs × levels up to their effective priority; the others are re-sent, so a look does not
 * count as a lost lease. Returns how many moved.
 */
export async function ageTaskQueues(
  sqs: SQSClient,
  url: (level: number) => string,
  at: number,
  agingMs: number,
  batch: number,
): Promise<number> {
  let moved = 0;
  for (const level of [4, 3, 2, 1]) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url(level),
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
        await sendTaskBatch(sqs, url(effective), [{ ...body, level: effective }]);
        await deleteMessage(sqs, url(level), m.ReceiptHandle ?? '');
        moved++;
      } else {
        await resend(sqs, url(level), m);
      }
    }
  }
  return moved;
}

/** True when no message exists in these queues (visible, in flight or delayed). */
export async function queuesQuiet(sqs: SQSClient, urls: string[]): Promise<boolean> {
  const n = await countMessages(sqs, urls, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
    'ApproximateNumberOfMessagesDelayed',
  ]);
  return Object.values(n).every((v) => v === 0);
}

/** Approximate messages waiting (visible) and leased (in flight: tasks running) over these queues. */
export async function queueBacklog(
  sqs: SQSClient,
  urls: string[],
): Promise<{ queued: number; running: number }> {
  const n = await countMessages(sqs, urls, [
    'ApproximateNumberOfMessages',
    'ApproximateNumberOfMessagesNotVisible',
  ]);
  return {
    queued: n.ApproximateNumberOfMessages ?? 0,
    running: n.ApproximateNumberOfMessagesNotVisible ?? 0,
  };
}
