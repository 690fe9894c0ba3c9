// The one recovery sweep both backends run: the embedded engine when it starts (after a crash or a
// kill), the AWS dispatch tick every minute (a Lambda can die between any two writes). It reports
// tasks whose claimer died as crashed (retried by their policy), continues jobs a lost write left
// stuck, recounts node tallies and re-sends queued tasks whose message was lost once nothing is in
// flight anywhere, runs the after-steps (result webhook, triggers, admission) of jobs that reached
// their final status but whose process died before those ran, and resends webhooks a crashed
// process left pending.
import type { JobState } from '../ports/job-state.ts';
import type { JobDriver } from './driver.ts';
import { queuedTask } from './expansion.ts';
import { finishPending } from './finish.ts';
import { crashedReport, taskOutcome } from './outcomes.ts';

export interface RecoveryOptions {
  /**
   * 'all': continue every unfinished job (an engine that starts knows nothing of what was in
   * flight); 'stuck': only jobs whose stored state shows a lost write (a periodic sweep).
   */
  scope: 'all' | 'stuck';
  /** Carries a job on from its stored state (reconcile here, or in another process). */
  continueJob: (jobId: string) => Promise<void>;
  /**
   * How old a job's finishing mark must be before the sweep runs its after-steps: a live process
   * may still be running them. Default: 0 for scope 'all' (nothing else runs), else
   * FINISHING_GRACE_MS.
   */
  finishingGraceMs?: number;
}

/** A live process runs a job's after-steps within milliseconds; a mark this old was left behind. */
export const FINISHING_GRACE_MS = 60_000;

export interface RecoveryReport {
  /** Tasks whose claimer was gone, reported as crashed. */
  lostTasks: number;
  /** Unfinished jobs looked at. */
  jobs: number;
  /** Jobs continued. */
  continued: number;
  /** Queued tasks sent to the queue again (their message was lost). */
  resent: number;
  /** Finished jobs whose after-steps were run again. */
  finished: number;
  /** Webhook deliveries sent again. */
  webhooks: number;
}

export async function recoverySweep(d: JobDriver, opts: RecoveryOptions): Promise<RecoveryReport> {
  const { jobs, tasks, queue, notifier } = d.ports;
  const lost = await queue.lostClaims();
  for (const t of lost) {
    await taskOutcome(d, crashedReport(t.taskId, 'the engine stopped while this task was running'));
  }
  const report: RecoveryReport = {
    lostTasks: lost.length,
    jobs: 0,
    continued: 0,
    resent: 0,
    finished: 0,
    webhooks: 0,
  };
  let quiet: boolean | undefined;
  for (const job of await jobs.unfinishedJobs()) {
    report.jobs++;
    const sealed = sealedRunningNodes(job);
    // Counters reach the total but the node still runs: its final transition was lost.
    let stuck = sealed.some(([, n]) => n.succeeded + n.failed + n.stopped >= (n.total ?? 0));
    // Short of the total while nothing is in flight anywhere: a count or a message was lost (or
    // the continuation of a split expansion, which is in flight as long as the expansion goes on;
    // its node's total is the whole batch from the first part on).
    // Recount from the task records and send the queued tasks again.
    if (!stuck && sealed.length > 0 && job.admitted) {
      quiet ??= await queue.quiet();
      if (quiet) {
        await tasks.rebuildTallies(job.jobId);
        for (const [name] of sealed) {
          const orphans = (await tasks.listTasks(job.jobId, name)).filter((t) => t.status === 'queued');
          await queue.enqueue(orphans.map((t) => ({ ...queuedTask(t), attempt: t.attempts + 1 })));
          report.resent += orphans.length;
        }
        stuck = true;
      }
    }
    if (stuck || opts.scope === 'all') {
      await opts.continueJob(job.jobId);
      report.continued++;
    }
  }
  // Resent before the after-steps run: a result webhook those record is then sent once, not twice.
  report.webhooks = await notifier.resumePending();
  report.finished = await finishPending(
    d,
    opts.finishingGraceMs ?? (opts.scope === 'all' ? 0 : FINISHING_GRACE_MS),
  );
  return report;
}

function sealedRunningNodes(job: JobState) {
  return [...job.nodes.entries()].filter(([, n]) => n.status === 'active' && n.total !== undefined);
}
