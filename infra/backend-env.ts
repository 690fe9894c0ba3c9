// The environment every function and container task gets: the AWS_ENV contract of
// shared/adapters/aws/config.ts filled with this deployment's resource names. All entry points get
// the whole map (names are not secrets; what each may do with them is limited by IAM), so no code
// path can meet an unset variable that another path needed.
import { ArnFormat, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AWS_ENV, type AwsEnvKey, DEFAULT_SHARED_VOLUME } from '../shared/adapters/aws/config.ts';
import type { InfraConfig } from './config.ts';
import type { StateStack } from './stacks/state-stack.ts';
import { PRIORITIES } from './stacks/state-stack.ts';

/** Physical names that must be known before the resources exist (they reference themselves). */
export const physicalNames = (prefix: string) => ({
  /** Fixed so its ARN can sit in its own environment (EventBridge targets name it). */
  cronFunction: `${prefix}-cron`,
  /** The EventBridge Scheduler group of the cron schedules (one per cron trigger, made at run time). */
  cronScheduleGroup: `${prefix}-cron`,
  /** The role Scheduler assumes to invoke the cron function; IAM role names are per account. */
  cronSchedulerRole: (region: string) => `${prefix}-cron-scheduler-${region}`,
  /** Task definition families: RunTask by family runs the latest revision. */
  workerFamily: `${prefix}-worker`,
  algorithmFamily: `${prefix}-algorithm`,
  /**
   * Algorithms with an image: their queues and task definition families are `<this>-alg-<name>`
   * (SLUICE_ALGORITHM_QUEUE_PREFIX, SLUICE_ALGORITHM_FAMILY_PREFIX), made at run time.
   */
  algorithmPrefix: prefix,
  /** The worker service dispatch scales (SLUICE_WORKER_SERVICE); fixed so workers can know it too. */
  workerService: `${prefix}-workers`,
});

/** Runtime settings infra sets from its own config (lease and aging keep the runtime's defaults). */
export const RUNTIME_ENV = {
  workerService: AWS_ENV.workerService,
  workerSlots: AWS_ENV.workerSlots,
  retentionDays: AWS_ENV.retentionDays,
  minWorkers: AWS_ENV.minWorkers,
} as const;
/** AWS_ENV keys infra leaves unset on purpose: the runtime's documented defaults apply. */
export const RUNTIME_DEFAULTED_KEYS = [
  'leaseSeconds',
  'agingSeconds',
  'finishingGraceSeconds',
  'expandMaxItems',
  'apiInlineMaxBytes',
  // Set only with `-c gpuCapacityProvider=NAME`; unset, an algorithm asking for `gpu` is refused.
  'gpuCapacityProvider',
  // Not the stacks': the api function sets them on each algorithm's own task definition
  // (algorithm-task-definition.ts), and the generic worker must never exit when idle.
  'algorithm',
  'idleExitSeconds',
];

/** The resources of algorithms with an image (infra/stacks/algorithm-tasks.ts). */
export interface AlgorithmTaskNames {
  /** URI of the worker image their init container copies Node.js and the worker from. */
  workerImage: string;
  taskRoleArn: string;
  executionRoleArn: string;
  logGroup: string;
}

/** Tasks one worker container runs at once: one per vCPU (the worker's own default). */
export const workerSlots = (config: InfraConfig): number => Math.max(1, Math.floor(config.workerCpu / 1024));

export interface ComputeNames {
  /** Left out of the functions' environment unless dispatch is to scale workers (see config). */
  clusterName?: string;
  subnetIds: string[];
  securityGroupId: string;
  /**
   * Switches algorithms with an image on (their queues, task definitions and tasks): only with a
   * cluster, since the dispatch tick starts their tasks.
   */
  algorithms?: AlgorithmTaskNames;
}

export function backendEnvironment(
  scope: Construct,
  config: InfraConfig,
  state: StateStack,
  compute: ComputeNames,
): Record<string, string> {
  const names = physicalNames(config.prefix);
  // Partial: the RUNTIME_ENV keys are set below, and lease/aging are left to the runtime's defaults.
  const values: Partial<Record<AwsEnvKey, string>> = {
    jobsTable: state.jobsTable.tableName,
    tasksTable: state.tasksTable.tableName,
    registryTable: state.registryTable.tableName,
    taskQueueUrls: Stack.of(scope).toJsonString(
      Object.fromEntries(PRIORITIES.map((p) => [String(p), state.taskQueues[p].queueUrl])),
    ),
    statusQueueUrl: state.statusQueue.queueUrl,
    eventQueueUrl: state.eventQueue.queueUrl,
    blobBucket: state.blobBucket.bucketName,
    codeBucket: state.codeBucket.bucketName,
    triggerBucket: state.triggerBucket.bucketName,
    cronTargetArn: Stack.of(scope).formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: names.cronFunction,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    cronScheduleGroup: names.cronScheduleGroup,
    cronSchedulerRoleArn: Stack.of(scope).formatArn({
      service: 'iam',
      region: '',
      resource: 'role',
      resourceName: names.cronSchedulerRole(Stack.of(scope).region),
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    }),
    cronDeadLetterArn: state.cronDeadLetters.queueArn,
    ...(compute.clusterName ? { ecsCluster: compute.clusterName } : {}),
    workerTaskDefinition: names.workerFamily,
    workerSubnets: compute.subnetIds.join(','),
    workerSecurityGroup: compute.securityGroupId,
    // network=public: no NAT, so a task started by RunTask needs a public IP to reach ECR and SQS.
    workerPublicIp: String(config.network === 'public'),
    sharedVolumePath: DEFAULT_SHARED_VOLUME,
    // The global cap of running tasks: every slot of maxWorkers containers.
    maxWorkers: String(config.maxWorkers * workerSlots(config)),
    ...(compute.algorithms
      ? {
          algorithmWorkerImage: compute.algorithms.workerImage,
          algorithmTaskRoleArn: compute.algorithms.taskRoleArn,
          algorithmExecutionRoleArn: compute.algorithms.executionRoleArn,
          algorithmLogGroup: compute.algorithms.logGroup,
          // Families and queues `<prefix>-alg-<name>`: what the grants name (algorithm-tasks.ts).
          algorithmFamilyPrefix: names.algorithmPrefix,
          algorithmQueuePrefix: names.algorithmPrefix,
          ...(config.gpuCapacityProvider ? { gpuCapacityProvider: config.gpuCapacityProvider } : {}),
        }
      : {}),
  };
  return {
    ...Object.fromEntries(Object.entries(values).map(([k, v]) => [AWS_ENV[k as AwsEnvKey], v])),
    [RUNTIME_ENV.workerService]: names.workerService,
    [RUNTIME_ENV.workerSlots]: String(workerSlots(config)),
    [RUNTIME_ENV.retentionDays]: String(config.retentionDays),
    [RUNTIME_ENV.minWorkers]: String(config.minWorkers),
  };
}
