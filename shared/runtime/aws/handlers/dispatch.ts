// dispatch: the scheduler's periodic tick (EventBridge, every minute; `serve --backend aws`
// every second): pipeline ttl/activeTtl, priority aging, the sweep that continues jobs a crash
// between two writes left behind, and the worker fleet's size from the queue depth.

import type { EcsLauncher } from '../../../adapters/aws/ecs-launcher.ts';
import type { AwsEngine } from '../aws-engine.ts';

export interface DispatchResult {
  depth: number;
  workers?: number;
  reconciled: number;
  /** Messages moved up a priority level by aging. */
  promoted: number;
}

export function createDispatchHandler(engine: () => AwsEngine, launcher?: () => EcsLauncher | undefined) {
  return async (): Promise<DispatchResult> => {
    const e = engine();
    await e.coordinator.enforceTtls();
    let reconciled = 0;
    let quiet: boolean | undefined;
    for (const job of await e.store.unfinishedJobs()) {
      const sealed = Object.entries(job.nodes).filter(
        ([, n]) => n.status === 'active' && n.total !== undefined,
      );
      // Counters reach the total but the node still runs: its final transition was lost (a crash
      // between the counter and the job write). Continue the job.
      let stuck = sealed.some(([, n]) => n.succeeded + n.failed + n.stopped >= (n.total ?? 0));
      // Short of the total while no task or outcome message exists anywhere: a count or a message
      // was lost (a crash between two writes). Recount from the task items, send the orphans again.
      if (!stuck && sealed.length > 0 && job.admitted) {
        quiet ??= await e.quiet();
        if (quiet) {
          await e.store.rebuildTallies(job.jobId);
          for (const [name] of sealed) {
            const orphans = (await e.store.listTasks(job.jobId, name)).filter((t) => t.status === 'queued');
            await e.queue.enqueue(orphans.map((t) => ({ ...t, attempt: t.attempts + 1 })));
          }
          stuck = true;
        }
      }
      if (stuck) {
        // Continued by the expand function (a large job's reconcile can outlast this tick).
        await e.sendEngineEvent({ type: 'reconcile', jobId: job.jobId });
        reconciled++;
      }
    }
    const promoted = await e.queue.promote(Date.now());
    const { queued: depth, running } = await e.queue.backlog();
    const l = launcher?.();
    const workers = l ? await l.scale(depth, running) : undefined;
    await e.notifier.drain();
    return { depth, ...(workers !== undefined ? { workers } : {}), reconciled, promoted };
  };
}
