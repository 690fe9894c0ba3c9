// Which task a record, a queue message or an outcome is about: the fields every backend copies
// from one shape to the next (a new task into a DynamoDB item, a claimed message into the record a
// worker runs, a queued task into the outcome it reports).
import type { NewTask } from '../ports/tasks.ts';

export type TaskIdentity = Pick<
  NewTask,
  'jobId' | 'nodeName' | 'batchIndex' | 'algorithmName' | 'pipelineName' | 'priority' | 'queuedAt'
>;

/** The identity fields of `t`; a queue message without a pipeline name gets ''. */
export function taskIdentity(
  t: Omit<TaskIdentity, 'pipelineName'> & { pipelineName?: string | undefined },
): TaskIdentity {
  return {
    jobId: t.jobId,
    nodeName: t.nodeName,
    ...(t.batchIndex !== undefined ? { batchIndex: t.batchIndex } : {}),
    algorithmName: t.algorithmName,
    pipelineName: t.pipelineName ?? '',
    priority: t.priority,
    queuedAt: t.queuedAt,
  };
}
