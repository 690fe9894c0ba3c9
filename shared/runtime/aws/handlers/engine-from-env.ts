// One AwsEngine per Lambda container, built from the environment on first use (cold start) and
// reused by every invocation; the cron control is EventBridge when the stacks configured it.

import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { algorithmImagesOptionsFromEnv, EcsAlgorithmImages } from '../../../adapters/aws/algorithm-images.ts';
import { awsRegion } from '../../../adapters/aws/clients.ts';
import { AWS_ENV, numberEnv, requireEnv } from '../../../adapters/aws/config.ts';
import { EcsLauncher } from '../../../adapters/aws/ecs-launcher.ts';
import { EventBridgeCron } from '../../../adapters/aws/eventbridge-cron.ts';
import { AwsEngine } from '../aws-engine.ts';

export const DEFAULT_CRON_RULE_PREFIX = 'sluice-cron-';

let engine: AwsEngine | undefined;

export function engineFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  opts: { deferExpansion?: boolean } = {},
): () => AwsEngine {
  return () => {
    if (engine) return engine;
    let cron: EventBridgeCron | undefined;
    const images = algorithmImagesOptionsFromEnv(env);
    const ecs = images
      ? new EcsAlgorithmImages(new ECSClient({ region: awsRegion(env) }), images)
      : undefined;
    const built: AwsEngine = AwsEngine.fromEnv(env, {
      ...(opts.deferExpansion ? { deferExpansion: true } : {}),
      // An algorithm with an image gets its task definition when stored (a refusal stores nothing).
      ...(ecs
        ? {
            prepareAlgorithm: async (a) => {
              if (a.image) await ecs.register(a);
            },
          }
        : {}),
      cron: {
        refresh: () => cron?.refresh() ?? Promise.resolve(),
        list: () => cron?.list() ?? Promise.resolve([]),
      },
    });
    if (env[AWS_ENV.cronTargetArn]) {
      cron = new EventBridgeCron(new EventBridgeClient({ region: awsRegion(env) }), built.registry, {
        targetArn: requireEnv(env, 'cronTargetArn'),
        prefix: env[AWS_ENV.cronRulePrefix] ?? DEFAULT_CRON_RULE_PREFIX,
      });
    }
    engine = built;
    return engine;
  };
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
