// The scheduler's periodic tick on AWS (EventBridge every minute; `serve --backend aws` every
// second): pipeline ttl/activeTtl, the recovery sweep for jobs a lost write left stuck (they are
// continued by the expand function), priority aging, and the worker fleet's size.
import type { EcsLauncher } from '../../adapters/aws/ecs-launcher.ts';
import type { AwsEngine } from './aws-engine.ts';

export interface DispatchResult {
  depth: number;
  workers?: number;
  /** Jobs continued by the recovery sweep. */
  reconciled: number;
  /** Finished jobs whose after-steps (webhook, triggers, admission) the sweep ran again. */
  finished: number;
  /** Messages moved up a priority level by aging. */
  promoted: number;
}

/**
 * The prompt part of the tick alone: pipeline ttl/activeTtl and priority aging. `serve --backend
 * aws` runs it every second and the whole tick every few (the sweep and the queue counts are a
 * dozen requests that only a lost write or a fleet to size needs, and production runs them once
 * a minute).
 */
export async function promptTick(e: AwsEngine): Promise<void> {
  await e.coordinator.enforceTtls();
  await e.queue.age(e.clock.now(), e.config.agingMs);
  await e.notifier.drain();
}

export async function dispatchTick(e: AwsEngine, launcher?: EcsLauncher): Promise<DispatchResult> {
  await e.coordinator.enforceTtls();
  const sweep = await e.engine.recover('stuck', (jobId) => e.continueJob(jobId), {
    finishingGraceMs: e.config.finishingGraceMs,
  });
  const promoted = await e.queue.age(e.clock.now(), e.config.agingMs);
  const { queued: depth, running } = await e.queue.backlog();
  const workers = launcher ? await launcher.scale(depth, running) : undefined;
  await e.notifier.drain();
  return {
    depth,
    ...(workers !== undefined ? { workers } : {}),
    reconciled: sweep.continued,
    finished: sweep.finished,
    promoted,
  };
}
