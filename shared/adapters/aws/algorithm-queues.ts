// An algorithm with an image has its own SQS task queue (one, for all priorities): its tasks go
// there (SqsTaskQueue's `queueOf`) and only its own ECS tasks read it, whose workers get this
// queue as all five of their task queues. Named `<prefix>-alg-<name>` beside the shared queues, so
// every function derives its URL without a lookup; created when the algorithm is stored, with the
// shared queues' settings (visibility, retention, encryption, dead-letter queue).
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS allows letters, digits, `-` and `_`, 80 characters at most. */
export function algorithmQueueName(prefix: string, algorithm: string): string {
  return `${prefix}-alg-${algorithm.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 80);
}

/** The queue's URL: `sibling` (any queue of the deployment) with its name replaced. */
export function algorithmQueueUrl(sibling: string, prefix: string, algorithm: string): string {
  return `${sibling.slice(0, sibling.lastIndexOf('/') + 1)}${algorithmQueueName(prefix, algorithm)}`;
}

/** What an algorithm's queue copies from a shared task queue. */
const COPIED = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'RedrivePolicy',
  'KmsMasterKeyId',
  'SqsManagedSseEnabled',
] as const;

/** Creates the algorithm's queue like `template` (idempotent: SQS answers the existing URL). */
export async function createAlgorithmQueue(
  sqs: SQSClient,
  template: string,
  prefix: string,
  algorithm: string,
): Promise<string> {
  const got = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: template, AttributeNames: [...COPIED] }),
  );
  const Attributes: Record<string, string> = {};
  for (const name of COPIED) {
    const value = got.Attributes?.[name];
    if (value !== undefined) Attributes[name] = value;
  }
  const r = await sqs.send(
    new CreateQueueCommand({ QueueName: algorithmQueueName(prefix, algorithm), Attributes }),
  );
  return r.QueueUrl ?? algorithmQueueUrl(template, prefix, algorithm);
}
