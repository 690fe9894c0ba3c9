// What algorithms with an image need from the stacks (docs/aws.md#algorithms-with-an-image): the
// worker image their init container copies Node.js and the worker from, the roles and log group
// of their tasks, and the exact grants of the functions that create their queues, register their
// task definitions (api) and start their tasks (dispatch). The queues and task definitions
// themselves are made at run time, one per stored algorithm, named `<prefix>-alg-<name>`.
import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CODE_KEY_PREFIX } from '../../shared/ports/code-store.ts';
import type { AlgorithmTaskNames } from '../backend-env.ts';
import type { InfraConfig } from '../config.ts';
import { grantBlobs, grantObjects, grantQueues, grantRegistryRuntime, grantTable } from '../data-grants.ts';
import type { StateStack } from './state-stack.ts';

/**
 * The platform of the runtime image copied into algorithm images: their task definitions name no
 * CPU architecture, so Fargate runs them on x86_64, where most published images are built.
 */
export const ALGORITHM_RUNTIME_PLATFORM = ecrAssets.Platform.LINUX_AMD64;
/** Private ECR repositories the algorithm tasks may pull users' images from (`<prefix>-algorithms/<name>`). */
export const algorithmRepositories = (prefix: string) => `${prefix}-algorithms/*`;

/** SQS actions of the worker inside an algorithm's task on its own queue (claim, heartbeat, settle, release). */
const OWN_QUEUE_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:SendMessage',
];

export interface AlgorithmTasksProps {
  config: InfraConfig;
  state: StateStack;
  /** The worker image's asset when it is built for ALGORITHM_RUNTIME_PLATFORM already (x86_64 workers). */
  workerImage?: ecrAssets.DockerImageAsset;
  /** Builds the runtime image when the worker image is another platform. */
  buildImage: (scope: Construct, id: string, platform: ecrAssets.Platform) => ecrAssets.DockerImageAsset;
}

export class AlgorithmTasks extends Construct {
  readonly runtimeImage: ecrAssets.DockerImageAsset;
  /** The worker inside an algorithm's task: narrower than the generic worker's role (no EFS, no shared task queues). */
  readonly taskRole: iam.Role;
  readonly executionRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AlgorithmTasksProps) {
    super(scope, id);
    const { config, state } = props;
    const stack = Stack.of(this);
    this.runtimeImage =
      props.workerImage ?? props.buildImage(this, 'RuntimeImage', ALGORITHM_RUNTIME_PLATFORM);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls Sluice algorithm images and writes their logs',
    });
    this.runtimeImage.repository.grantPull(this.executionRole);
    this.logGroup.grantWrite(this.executionRole);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PullAlgorithmImages',
        actions: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage'],
        resources: [
          stack.formatArn({
            service: 'ecr',
            resource: 'repository',
            resourceName: algorithmRepositories(config.prefix),
            arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
          }),
        ],
      }),
    );

    // What the worker in an algorithm's task calls: the shared coordinator's tables (a task's start
    // is a transition; the code API starts jobs), the registry's runtime items, blobs, uploaded
    // code; claims from its own queue and sends there (released tasks, children), reports to the
    // status queue, continues split expansions through the event queue. No EFS: the task has none.
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Sluice algorithm tasks (the worker beside an algorithm image)',
    });
    grantTable(this.taskRole, 'jobs', state.jobsTable, 'write');
    grantTable(this.taskRole, 'tasks', state.tasksTable, 'write');
    grantRegistryRuntime(this.taskRole, state.registryTable);
    grantBlobs(this.taskRole, state.blobBucket);
    grantObjects(this.taskRole, state.codeBucket, CODE_KEY_PREFIX, ['s3:GetObject']);
    grantAlgorithmQueues(this.taskRole, config.prefix, OWN_QUEUE_ACTIONS);
    grantQueues(this.taskRole, [state.statusQueue, state.eventQueue], ['sqs:SendMessage']);
  }

  /** The SLUICE_ALGORITHM_* values (backend-env.ts). */
  names(): AlgorithmTaskNames {
    return {
      workerImage: this.runtimeImage.imageUri,
      taskRoleArn: this.taskRole.roleArn,
      executionRoleArn: this.executionRole.roleArn,
      logGroup: this.logGroup.logGroupName,
    };
  }
}

/** The ARN pattern of every algorithm's own queue (`<prefix>-alg-<name>`, algorithm-queues.ts). */
export function algorithmQueuesArn(scope: Construct, prefix: string): string {
  return Stack.of(scope).formatArn({
    service: 'sqs',
    resource: `${prefix}-alg-*`,
    arnFormat: ArnFormat.NO_RESOURCE_NAME,
  });
}

type Grantee = iam.IGrantable & Construct;

/** Exactly these SQS actions on the algorithms' own queues. */
export function grantAlgorithmQueues(grantee: Grantee, prefix: string, actions: string[]): void {
  iam.Grant.addToPrincipal({ grantee, actions, resourceArns: [algorithmQueuesArn(grantee, prefix)] });
}

export interface AlgorithmGrantTargets {
  prefix: string;
  clusterArn: string;
  /** The priority-3 task queue, whose settings a new algorithm queue copies. */
  templateQueue: IQueue;
  taskRole: iam.IRole;
  executionRole: iam.IRole;
}

/** api: creates an algorithm's queue like the template and registers its task definition. */
export function grantRegisterAlgorithms(fn: Grantee, t: AlgorithmGrantTargets): void {
  grantQueues(fn, [t.templateQueue], ['sqs:GetQueueAttributes']);
  grantAlgorithmQueues(fn, t.prefix, ['sqs:CreateQueue']);
  iam.Grant.addToPrincipal({
    grantee: fn,
    // RegisterTaskDefinition has no resource type; the roles a definition may carry are the guard.
    actions: ['ecs:RegisterTaskDefinition'],
    resourceArns: ['*'],
  });
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['iam:PassRole'],
    resourceArns: [t.taskRole.roleArn, t.executionRole.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
  });
}

/**
 * dispatch: RunTask of the algorithms' families on the cluster, sized on their queues (ListTasks
 * and PassRole of the algorithm roles are in the scheduler stack's ECS statements).
 */
export function grantRunAlgorithms(fn: Grantee, t: AlgorithmGrantTargets): void {
  const stack = Stack.of(fn);
  grantAlgorithmQueues(fn, t.prefix, ['sqs:GetQueueAttributes']);
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['ecs:RunTask'],
    resourceArns: [
      stack.formatArn({
        service: 'ecs',
        resource: 'task-definition',
        resourceName: `${t.prefix}-alg-*:*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    ],
    conditions: { ArnEquals: { 'ecs:cluster': t.clusterArn } },
  });
}
