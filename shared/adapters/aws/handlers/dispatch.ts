// dispatch: the scheduler's periodic tick (EventBridge, every minute; `serve --backend aws`
// every second): pipeline ttl/activeTtl, completion checks of jobs whose last counter update
// found nothing to do, and the worker fleet's size from the queue depth.
import type { AwsEngine } from '../aws-engine.ts';
import type { EcsLauncher } from '../ecs-launcher.ts';

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
    for (const job of await e.store.unfinishedJobs()) {
      // A job whose active node's counters already reach its total lost its final transition
      // (a crash between the counter and the job write): continue it.
      const stuck = Object.values(job.nodes).some(
        (n) =>
          n.status === 'active' && n.total !== undefined && n.succeeded + n.failed + n.stopped >= n.total,
      );
      if (stuck) {
        await e.coordinator.reconcile(job.jobId);
        reconciled++;
      }
    }
    const promoted = await e.queue.promote(Date.now());
    const depth = await e.queue.depth();
    const l = launcher?.();
    const workers = l ? await l.scale(depth) : undefined;
    await e.notifier.drain();
    return { depth, ...(workers !== undefined ? { workers } : {}), reconciled, promoted };
  };
}
