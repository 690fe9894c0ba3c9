// ECS side of algorithms with an image: registers the algorithm's task definition when the
// algorithm is stored (algorithm-task-definition.ts), and starts its tasks: hot workers that
// serve only this algorithm, never more than its `maxWorkers` (or the deployment's cap), none
// when nothing of it waits.
import {
  type ECSClient,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
} from '@aws-sdk/client-ecs';
import type { AlgorithmDefinition } from '../../pipeline/types.ts';
import {
  type AlgorithmTaskOptions,
  algorithmFamily,
  algorithmTaskDefinition,
} from './algorithm-task-definition.ts';
import { awsRegion } from './clients.ts';
import { AWS_ENV, type AwsEnvKey, numberEnv, requireEnv } from './config.ts';

export interface AlgorithmImagesOptions extends AlgorithmTaskOptions {
  cluster: string;
  subnets: string[];
  securityGroup?: string;
  /** network=public: the task needs a public address to reach ECR and the queues. */
  assignPublicIp?: boolean;
  /** Most tasks of one algorithm when it sets no maxWorkers. */
  maxTasksPerAlgorithm: number;
}

export class EcsAlgorithmImages {
  constructor(
    private readonly ecs: ECSClient,
    private readonly opts: AlgorithmImagesOptions,
  ) {}

  /** Registers (a new revision of) the algorithm's task definition; answers its ARN. Throws ValidationError for what cannot run. */
  async register(def: AlgorithmDefinition, taskQueueUrl?: string): Promise<string> {
    const input = algorithmTaskDefinition(def, this.opts, taskQueueUrl);
    const r = await this.ecs.send(new RegisterTaskDefinitionCommand(input));
    return r.taskDefinition?.taskDefinitionArn ?? (input.family as string);
  }

  /** The algorithm's tasks that are running or starting. */
  async running(def: AlgorithmDefinition): Promise<number> {
    let count = 0;
    let token: string | undefined;
    do {
      const r = await this.ecs.send(
        new ListTasksCommand({
          cluster: this.opts.cluster,
          family: algorithmFamily(this.opts.prefix, def.name),
          desiredStatus: 'RUNNING',
          nextToken: token,
        }),
      );
      count += r.taskArns?.length ?? 0;
      token = r.nextToken;
    } while (token);
    return count;
  }

  /**
   * Starts the tasks `waiting` tasks of the algorithm need beside those running, within its
   * maxWorkers (one task slot per ECS task); nothing when nothing waits. Answers how many started.
   */
  async scale(def: AlgorithmDefinition, waiting: number): Promise<number> {
    if (waiting <= 0) return 0;
    const cap = def.maxWorkers ?? this.opts.maxTasksPerAlgorithm;
    const running = await this.running(def);
    const missing = Math.max(0, Math.min(cap, waiting) - running);
    const gpu = (def.gpu ?? 0) > 0;
    for (let started = 0; started < missing; started += 10) {
      await this.ecs.send(
        new RunTaskCommand({
          cluster: this.opts.cluster,
          taskDefinition: algorithmFamily(this.opts.prefix, def.name),
          count: Math.min(10, missing - started),
          startedBy: `sluice-alg`,
          ...(gpu && this.opts.gpuCapacityProvider
            ? { capacityProviderStrategy: [{ capacityProvider: this.opts.gpuCapacityProvider, weight: 1 }] }
            : { launchType: 'FARGATE' }),
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: this.opts.subnets,
              ...(this.opts.securityGroup ? { securityGroups: [this.opts.securityGroup] } : {}),
              assignPublicIp: this.opts.assignPublicIp ? 'ENABLED' : 'DISABLED',
            },
          },
        }),
      );
    }
    return missing;
  }
}

/** What an algorithm's task inherits of the environment (the worker's contract: tables, queues, bucket, timings). */
const INHERITED: readonly AwsEnvKey[] = [
  'jobsTable',
  'tasksTable',
  'registryTable',
  'taskQueueUrls',
  'statusQueueUrl',
  // Continuations of a batch its code API expands in parts.
  'eventQueueUrl',
  'blobBucket',
  // Uploaded algorithm code (unset, the worker would look for it in the blob bucket).
  'codeBucket',
  'leaseSeconds',
  'agingSeconds',
  'finishingGraceSeconds',
  'expandMaxItems',
  'retentionDays',
  // Its own enqueues (code API children) of image algorithms go to their queues.
  'algorithmQueuePrefix',
];

/** The algorithm images' options from the environment, or undefined where the stacks set none. */
export function algorithmImagesOptionsFromEnv(env: NodeJS.ProcessEnv): AlgorithmImagesOptions | undefined {
  const workerImage = env[AWS_ENV.algorithmWorkerImage];
  if (!workerImage) return undefined;
  const environment: Record<string, string> = {};
  for (const key of INHERITED) {
    const value = env[AWS_ENV[key]];
    if (value !== undefined) environment[AWS_ENV[key]] = value;
  }
  const gpu = env[AWS_ENV.gpuCapacityProvider];
  const logGroup = env[AWS_ENV.algorithmLogGroup];
  return {
    prefix: env[AWS_ENV.algorithmFamilyPrefix] || 'sluice',
    workerImage,
    taskRoleArn: requireEnv(env, 'algorithmTaskRoleArn'),
    executionRoleArn: requireEnv(env, 'algorithmExecutionRoleArn'),
    environment,
    ...(logGroup ? { logGroup, region: awsRegion(env) } : {}),
    ...(gpu ? { gpuCapacityProvider: gpu } : {}),
    cluster: requireEnv(env, 'ecsCluster'),
    subnets: (env[AWS_ENV.workerSubnets] ?? '').split(',').filter(Boolean),
    ...(env[AWS_ENV.workerSecurityGroup] ? { securityGroup: env[AWS_ENV.workerSecurityGroup] } : {}),
    ...(env[AWS_ENV.workerPublicIp] === 'true' ? { assignPublicIp: true } : {}),
    maxTasksPerAlgorithm: numberEnv(env, 'maxWorkers', 10),
  };
}
