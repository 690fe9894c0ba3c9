// Task outcomes from workers to the status function, over the status queue. Outcomes too large for
// a message (SQS: 256 KiB) travel as a pointer to a blob. A message from a worker of the previous
// release (booleans `crashed`/`timedOut`/`stopped` instead of a typed failure) is read as the
// failure it describes.
import type { SqsBatcher } from '../../adapters/aws/sqs-batcher.ts';
import type { TaskOutcomeReport } from '../../engine/outcomes.ts';
import { type BlobStore, INLINE_VALUE_LIMIT } from '../../ports/blob-store.ts';
import { parseTaskFailure, type TaskFailure, taskFailure } from '../../ports/task-failure.ts';
import { parseTaskLogs } from '../../ports/task-logs.ts';

type Message = Omit<Partial<TaskOutcomeReport>, 'logs'> & {
  logs?: unknown;
  taskId?: unknown;
  blob?: string;
  error?: string;
  failure?: unknown;
  crashed?: boolean;
  timedOut?: boolean;
  stopped?: boolean;
};

/** The failure a message describes, typed or (from an older worker) by its booleans. */
function failureOf(m: Message): TaskFailure {
  const typed = parseTaskFailure(m.failure);
  if (typed) return typed;
  const message = m.error ?? 'task failed';
  if (m.stopped) return taskFailure('stopped', message);
  if (m.timedOut) return taskFailure('timed-out', message);
  if (m.crashed) return taskFailure('crashed', message);
  return taskFailure('algorithm-error', message);
}

export class StatusQueue {
  constructor(
    private readonly batcher: SqsBatcher,
    private readonly url: string,
    private readonly blobs: BlobStore,
  ) {}

  async send(report: TaskOutcomeReport): Promise<void> {
    let body = JSON.stringify(report);
    if (body.length > INLINE_VALUE_LIMIT) {
      const key = `outcomes/${report.taskId}-${Date.now().toString(36)}.json`;
      await this.blobs.put(key, Buffer.from(body));
      body = JSON.stringify({ taskId: report.taskId, blob: key });
    }
    await this.batcher.send(this.url, body);
  }

  /** A status-queue message back into an outcome (following a blob pointer). */
  async read(body: string): Promise<TaskOutcomeReport> {
    let m = JSON.parse(body) as Message;
    if (typeof m.taskId !== 'string') throw new Error('status message without a taskId');
    if (m.blob) m = JSON.parse((await this.blobs.get(m.blob)).toString('utf8')) as Message;
    const base = {
      taskId: String(m.taskId),
      ...(parseTaskLogs(m.logs) ? { logs: parseTaskLogs(m.logs)! } : {}),
      ...(m.task ? { task: m.task } : {}),
    };
    if (m.status === 'succeeded')
      return { ...base, status: 'succeeded', ...('result' in m ? { result: m.result } : {}) };
    if (m.status === 'failed')
      return { ...base, status: 'failed', error: m.error ?? '', failure: failureOf(m) };
    throw new Error(`status message with status ${String(m.status)}`);
  }
}
