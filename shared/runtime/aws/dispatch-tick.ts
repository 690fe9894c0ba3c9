// The scheduler's periodic tick on AWS (EventBridge every minute; `serve --backend aws` every
// second): pipeline ttl/activeTtl, the recovery sweep for jobs a lost write left stuck (they are
// continued by the expand function), priority aging, and the worker fleet's size.
import type { EcsAlgorithmImages } from '../../adapters/aws/algorithm-images.ts';
import { algorithmQueueUrl } from '../../adapters/aws/algorithm-queues.ts';
import type { EcsLauncher } from '../../adapters/aws/ecs-launcher.ts';
import { queueBacklog } from '../../adapters/aws/sqs-queue-ops.ts';
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
  /** Tasks started for algorithms with an image, by algorithm (only those that got some). */
  algorithmTasks?: Record<string, number>;
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

export async function dispatchTick(
  e: AwsEngine,
  launcher?: EcsLauncher,
  images?: EcsAlgorithmImages,
): Promise<DispatchResult> {
  await e.coordinator.enforceTtls();
  const sweep = await e.engine.recover('stuck', (jobId) => e.continueJob(jobId), {
    finishingGraceMs: e.config.finishingGraceMs,
  });
  const promoted = await e.queue.age(e.clock.now(), e.config.agingMs);
  const { queued: depth, running } = await e.queue.backlog();
  const workers = launcher ? await launcher.scale(depth, running) : undefined;
  const algorithmTasks = images ? await scaleAlgorithms(e, images) : undefined;
  await e.notifier.drain();
  return {
    depth,
    ...(workers !== undefined ? { workers } : {}),
    ...(algorithmTasks && Object.keys(algorithmTasks).length ? { algorithmTasks } : {}),
    reconciled: sweep.continued,
    finished: sweep.finished,
    promoted,
  };
}

/**
 * Each image algorithm's own tasks, sized by its own queue: messages waiting and in flight (held
 * by its running workers). Scale-in is the workers' own (SLUICE_IDLE_EXIT_SECONDS).
 */
async function scaleAlgorithms(e: AwsEngine, images: EcsAlgorithmImages): Promise<Record<string, number>> {
  const prefix = e.config.algorithmQueuePrefix;
  if (!prefix) return {};
  const started: Record<string, number> = Object.create(null);
  for (const def of await e.registry.listAlgorithms()) {
    if (!def.image) continue;
    const url = algorithmQueueUrl(e.config.statusQueueUrl, prefix, def.name);
    const { queued, running } = await queueBacklog(e.sqs, [url]);
    const n = await images.scale(def, queued + running);
    if (n > 0) started[def.name] = n;
  }
  return started;
}
