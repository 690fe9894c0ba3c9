// A task's run ended: retry it by its node's policy, or record the outcome, count it in the node's
// tally and advance the job. A duplicate or late outcome is a no-op (the task store applies one
// outcome per run), so at-least-once delivery counts once.
import { streamingParents } from '../pipeline/index.ts';
import type { JobState, TaskOutcomeKind, TaskStatus } from '../ports/job-state.ts';
import { type TaskFailure, taskFailure } from '../ports/task-failure.ts';
import type { TaskLogs } from '../ports/task-logs.ts';
import type { QueuedTask } from '../ports/task-queue.ts';
import type { NodeTally, TaskRecord } from '../ports/tasks.ts';
import type { JobDriver } from './driver.ts';
import { queuedTask } from './expansion.ts';
import { ioBytesOf } from './io-bytes.ts';
import { shouldRetry } from './retry.ts';
import { type TaskIdentity, taskIdentity } from './task-identity.ts';
import { isJobFinal } from './transitions.ts';

/** The task as a worker ran it, carried by its outcome where the queue message is the lease. */
export type ReportedTask = TaskIdentity & { attempt: number; startedAt?: number };

export type TaskOutcomeReport = {
  taskId: string;
  logs?: TaskLogs;
  /**
   * Set by claimers whose queue message is the lease (AWS): the task as the worker ran it, so the
   * status function needs no read. `attempt` is this run's number; the store applies one outcome
   * per attempt (a duplicate report of the same attempt is a no-op).
   */
  task?: ReportedTask;
} & (
  | { status: 'succeeded'; result?: unknown }
  | {
      status: 'failed';
      /** The full text of the failure (headline, trace tail, stderr tail). */
      error: string;
      failure: TaskFailure;
    }
);

/** The task as a worker ran it, for its outcome report. */
export function reportedTask(t: QueuedTask): ReportedTask {
  return { ...taskIdentity(t), attempt: t.attempt ?? 1 };
}

/** The outcome of a run that crashed (the process running it died, or its worker was lost). */
export function crashedReport(taskId: string, message: string, task?: ReportedTask): TaskOutcomeReport {
  return {
    taskId,
    status: 'failed',
    error: message,
    failure: taskFailure('crashed', message),
    ...(task ? { task } : {}),
  };
}

export async function taskOutcome(d: JobDriver, report: TaskOutcomeReport): Promise<void> {
  const { tasks, queue, clock, jobReads } = d.ports;
  const task: TaskRecord | undefined = report.task
    ? {
        taskId: report.taskId,
        ...report.task,
        ...(report.task.batchIndex !== undefined ? { batchIndex: report.task.batchIndex } : {}),
        input: [],
        status: 'active',
        attempts: report.task.attempt,
      }
    : await tasks.getTask(report.taskId);
  if (task?.status !== 'active') return; // duplicate or already stopped: a no-op
  const job = await jobReads.getJob(task.jobId);
  if (!job) return;
  const node = job.pipeline.nodes.find((n) => n.nodeName === task.nodeName);
  if (report.status === 'failed' && node && !isJobFinal(job)) {
    if (
      shouldRetry(node.retry, task.attempts, report.failure) &&
      (await tasks.requeueTask(task.taskId, clock.now(), task.attempts))
    ) {
      // Counted before the task can run again, so its next outcome never overtakes the count.
      await d.apply(job.jobId, { type: 'taskRetried', node: task.nodeName, at: clock.now() });
      const again = { ...queuedTask({ ...task, queuedAt: clock.now() }), attempt: task.attempts + 1 };
      // A snapshot from the report has no input: the worker reads it from the task record.
      if (report.task) delete again.input;
      await queue.enqueue([again]);
      d.feed.publish({ type: 'tasksQueued', jobId: job.jobId, count: 1 });
      publishTask(d, task, 'queued');
      return;
    }
  }
  const outcome: TaskOutcomeKind =
    report.status === 'failed' && report.failure.type === 'stopped' ? 'stopped' : report.status;
  const tally = await tasks.finishTask(task.taskId, {
    status: outcome,
    ...(report.status === 'succeeded' && report.result !== undefined ? { result: report.result } : {}),
    ...(report.status === 'failed' ? { error: report.error, failure: report.failure } : {}),
    ...(report.logs ? { logs: report.logs } : {}),
    ...(report.task ? { attempt: report.task.attempt } : {}),
    ...(report.task?.startedAt !== undefined ? { startedAt: report.task.startedAt } : {}),
    at: clock.now(),
  });
  if (!tally) {
    // Recorded already: a stop ended it (that publishes no task event), or this is a repeated
    // run. Its run is over all the same, and whoever saw it start (the workers view, the event
    // stream) must see it end, with the status on record.
    const recorded = (await tasks.getTask(task.taskId))?.status;
    if (recorded && recorded !== 'active' && recorded !== 'queued') publishTask(d, task, recorded);
    return;
  }
  d.feed.publish({ type: 'taskFinished', jobId: job.jobId, taskId: task.taskId, status: outcome });
  publishTask(
    d,
    task,
    outcome,
    report.status === 'succeeded' ? ioBytesOf(task.algorithmName, report.result) : undefined,
  );
  if (!needsTransition(d, job, task, outcome, tally)) return;
  if (outcome === 'succeeded' && job.dynamic && !job.dynamic.closed) {
    // An open dynamic job completes only when closed, and closing reads the tallies: no write
    // unless it was closed meanwhile (read after the tally, so the close cannot be missed).
    const now = await jobReads.getJob(job.jobId);
    if (now?.dynamic && !now.dynamic.closed) return;
  }
  const finished = () =>
    d.apply(job.jobId, {
      type: 'taskFinished',
      node: task.nodeName,
      ...(task.batchIndex !== undefined ? { batchIndex: task.batchIndex } : {}),
      outcome,
      ...(report.status === 'failed' ? { error: report.error, failure: report.failure } : {}),
      counts: { succeeded: tally.succeeded, failed: tally.failed, stopped: tally.stopped },
      at: clock.now(),
    });
  if (!completesBatch(job, task, outcome, tally) || feedsStreamingChild(d, job, task.nodeName))
    return finished();
  // One completion per tally read: the others wait for it, and apply theirs only if it failed
  // (no await between the look and the entry, so the first one is the one that applies).
  const first = completions.get(tally);
  if (first && (await first)) return;
  const mine = finished();
  if (!first)
    completions.set(
      tally,
      mine.then(
        () => true,
        () => false,
      ),
    );
  await mine;
}

/**
 * Completions under way, by the tally read that showed them: a store that counts a node's
 * outcomes together (DynamoDB: one counter write and one read for the outcomes of a few
 * milliseconds) hands them all the same sums, and when those say that the batch node is done,
 * one `taskFinished` completes it (each of the others would re-read and re-write the finished job).
 */
const completions = new WeakMap<NodeTally, Promise<boolean>>();

/** A succeeded item whose node's sums show its batch done: it has nothing of its own to record. */
function completesBatch(
  job: JobState,
  task: TaskRecord,
  outcome: TaskOutcomeKind,
  tally: NodeTally,
): boolean {
  const n = job.nodes.get(task.nodeName);
  if (outcome !== 'succeeded' || !n?.batch || n.total === undefined) return false;
  return tally.succeeded + tally.failed + tally.stopped >= n.total;
}

function publishTask(d: JobDriver, task: TaskRecord, status: TaskStatus, ioBytes?: number): void {
  d.feed.publish({
    type: 'taskChanged',
    jobId: task.jobId,
    taskId: task.taskId,
    nodeName: task.nodeName,
    ...(task.batchIndex !== undefined ? { batchIndex: task.batchIndex } : {}),
    status,
    ...(ioBytes !== undefined ? { ioBytes } : {}),
  });
}

/**
 * A succeeded batch item changes nothing but its node's tally unless it completes the node or
 * feeds a streaming child: then the job record is not written at all, so a 100,000-item fan-in
 * does not make the job record a hot item (readers of the job add the tallies themselves).
 */
function needsTransition(
  d: JobDriver,
  job: JobState,
  task: TaskRecord,
  outcome: TaskOutcomeKind,
  counts: NodeTally,
): boolean {
  const n = job.nodes.get(task.nodeName);
  if (!n || outcome !== 'succeeded' || !n.batch || n.status !== 'active') return true;
  if (feedsStreamingChild(d, job, task.nodeName)) return true;
  // Not sealed yet (streaming, or the `expanded` write is in flight): write, so that the version
  // check orders this count against the sealing transition.
  if (n.total === undefined) return true;
  return counts.succeeded + counts.failed + counts.stopped >= n.total;
}

/** A child reads this node's items as they finish (`*@`): each item is an event of its own. */
function feedsStreamingChild(d: JobDriver, job: JobState, node: string): boolean {
  const dag = d.dagOf(job.jobId, job.pipeline);
  return (dag.children.get(node) ?? []).some((c) => streamingParents(dag, c).includes(node));
}
