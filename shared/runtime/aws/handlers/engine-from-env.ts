// One AwsEngine per Lambda container, built from the environment on first use (cold start) and
// reused by every invocation; the cron control is EventBridge Scheduler when the stacks configured it.

import { ECSClient } from '@aws-sdk/client-ecs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { algorithmImagesOptionsFromEnv, EcsAlgorithmImages } from '../../../adapters/aws/algorithm-images.ts';
import { createAlgorithmQueue } from '../../../adapters/aws/algorithm-queues.ts';
import { awsRegion } from '../../../adapters/aws/clients.ts';
import { AWS_ENV, numberEnv, requireEnv } from '../../../adapters/aws/config.ts';
import { EcsLauncher } from '../../../adapters/aws/ecs-launcher.ts';
import { SchedulerCron } from '../../../adapters/aws/scheduler-cron.ts';
import type { AlgorithmDefinition } from '../../../pipeline/types.ts';
import { AwsEngine } from '../aws-engine.ts';

let engine: AwsEngine | undefined;

export function engineFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: { deferExpansion?: boolean } = {},
): () => AwsEngine {
  return () => {
    if (engine) return engine;
    let cron: SchedulerCron | undefined;
    const images = algorithmImagesOptionsFromEnv(env);
    const ecs = images
      ? new EcsAlgorithmImages(new ECSClient({ region: awsRegion(env) }), images)
      : undefined;
    const built: AwsEngine = AwsEngine.fromEnv(env, {
      ...(opts.deferExpansion ? { deferExpansion: true } : {}),
      // An algorithm with an image gets its task definition when stored (a refusal stores nothing).
      ...(ecs ? { prepareAlgorithm: algorithmPreparer(ecs, () => built) } : {}),
      cron: {
        refresh: (changed) => cron?.refresh(changed) ?? Promise.resolve(),
        list: () => cron?.list() ?? Promise.resolve([]),
      },
    });
    if (env[AWS_ENV.cronScheduleGroup]) cron = schedulerCronFromEnv(env, built.registry);
    engine = built;
    return engine;
  };
}

/** What storing an algorithm with an image does on AWS: its own queue, then its task definition. */
export function algorithmPreparer(
  ecs: EcsAlgorithmImages,
  engine: () => AwsEngine,
): (a: AlgorithmDefinition) => Promise<void> {
  return async (a) => {
    if (!a.image) return;
    const e = engine();
    // Its own task queue first (SLUICE_ALGORITHM_QUEUE_PREFIX), which its task definition names.
    const prefix = e.config.algorithmQueuePrefix;
    const queue = prefix
      ? await createAlgorithmQueue(e.sqs, e.config.taskQueueUrls[3] as string, prefix, a.name)
      : undefined;
    await ecs.register(a, queue);
  };
}

/** The cron control of a deployment: its schedule group, target, role and dead-letter queue. */
export function schedulerCronFromEnv(
  env: NodeJS.ProcessEnv,
  registry: ConstructorParameters<typeof SchedulerCron>[1],
  client: SchedulerClient = new SchedulerClient({ region: awsRegion(env) }),
): SchedulerCron {
  return new SchedulerCron(client, registry, {
    group: requireEnv(env, 'cronScheduleGroup'),
    targetArn: requireEnv(env, 'cronTargetArn'),
    roleArn: requireEnv(env, 'cronSchedulerRoleArn'),
    deadLetterArn: requireEnv(env, 'cronDeadLetterArn'),
  });
}

/** The ECS launcher when the stacks configured a cluster (the dispatch function scales workers). */
export function launcherFromEnv(env: NodeJS.ProcessEnv = process.env): () => EcsLauncher | undefined {
  let launcher: EcsLauncher | undefined;
  return () => {
    if (launcher || !env[AWS_ENV.ecsCluster]) return launcher;
    const slots = numberEnv(env, 'workerSlots', 2);
    launcher = new EcsLauncher(new ECSClient({ region: awsRegion(env) }), {
      cluster: requireEnv(env, 'ecsCluster'),
      taskDefinition: requireEnv(env, 'workerTaskDefinition'),
      subnets: (env[AWS_ENV.workerSubnets] ?? '').split(',').filter(Boolean),
      ...(env[AWS_ENV.workerSecurityGroup] ? { securityGroup: env[AWS_ENV.workerSecurityGroup] } : {}),
      ...(env[AWS_ENV.workerService] ? { service: env[AWS_ENV.workerService] } : {}),
      slotsPerWorker: slots,
      maxTasks: numberEnv(env, 'maxWorkers', 100),
      minWorkers: numberEnv(env, 'minWorkers', 0),
    });
    return launcher;
  };
}

/** Algorithms with an image (SLUICE_ALGORITHM_WORKER_IMAGE set): their task definitions and tasks. */
export function algorithmImagesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): () => EcsAlgorithmImages | undefined {
  let images: EcsAlgorithmImages | undefined;
  return () => {
    if (images) return images;
    const opts = algorithmImagesOptionsFromEnv(env);
    if (opts) images = new EcsAlgorithmImages(new ECSClient({ region: awsRegion(env) }), opts);
    return images;
  };
}
