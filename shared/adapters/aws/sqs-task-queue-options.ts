// The options of SqsTaskQueue (sqs-task-queue.ts) and what it keeps per message: a held task's
// lease, and a message received ahead of a free slot.
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SlotLimits } from '../../ports/slots.ts';
import type { QueuedTask } from '../../ports/task-queue.ts';
import type { TaskLeaseReader } from '../../ports/tasks.ts';
import type { SqsBatcher } from './sqs-batcher.ts';
import type { TaskMessage } from './sqs-task-messages.ts';

export interface SqsLease {
  receipt: string;
  queueUrl: string;
  startedAt: number;
  attempt: number;
  /** Holds a maxWorkers slot of its algorithm. */
  slot: boolean;
  timer?: ReturnType<typeof setInterval>;
}

/** A message received ahead of a free slot: invisible to others while its heartbeat runs. */
export interface Buffered {
  queueUrl: string;
  level: number;
  message: Message;
  body: TaskMessage;
  timer: ReturnType<typeof setInterval>;
  /** Claims that skipped it so far. */
  skips: number;
}

export interface SqsTaskQueueOptions {
  sqs: SQSClient;
  /** Queue URL per priority level 1..5. */
  urls: Record<number, string>;
  /** Other queues whose messages are work about tasks (status, engine events): see quiet(). */
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
  /** An algorithm's own queue (an image algorithm's, read only by its own tasks), if it has one. */
  queueOf?: (algorithm: string) => Promise<string | undefined>;
  /** Every algorithm's own queue: `quiet` looks at them too. */
  ownQueues?: () => Promise<string[]>;
  /** Free local slots: never hold more messages than these plus `prefetch`. */
  capacity?: () => number;
  /**
   * Messages received ahead of free slots and kept for the next claims (default 0: receive only
   * what can start now). The worker sets it to its slot count.
   */
  prefetch?: number;
  /** A held task was stopped (or its status can no longer be read): abort its run. */
  onLost?: (taskId: string) => void;
  /** A task's previous worker died (its message came back): report that attempt as crashed. */
  onExpired?: (task: QueuedTask & { attempt: number }) => Promise<void>;
  clock?: () => number;
}
