// The control plane: the six Lambda functions of FUNCTION_SPECS (bundled locally with esbuild),
// their SQS event sources (s3-trigger's is the trigger queue S3 notifies), the periodic tick rule, and the
// cron triggers' EventBridge Scheduler group (schedules made at run time by the api function live
// in it and go with the stack) with the one role its schedules may use: invoking the cron function.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  FUNCTION_NAMES,
  LARGE_ANSWER_PREFIX,
  TRIGGER_MARKER_PREFIX,
  TRIGGER_UPLOAD_PREFIX,
} from '../../shared/adapters/aws/config.ts';
import { CODE_KEY_PREFIX, CODE_UPLOAD_PREFIX } from '../../shared/ports/code-store.ts';
import { backendEnvironment, physicalNames } from '../backend-env.ts';
import type { InfraConfig } from '../config.ts';
import { grantBlobs, grantObjects, grantQueues, grantRegistryRuntime, grantTable } from '../data-grants.ts';
import { FUNCTION_SPECS, type FunctionName, type QueueName } from '../function-specs.ts';
import { grantAlgorithmQueues, grantRegisterAlgorithms, grantRunAlgorithms } from './algorithm-tasks.ts';
import { PRIORITIES, type StateStack } from './state-stack.ts';
import { REPO_ROOT, type WorkersStack } from './workers-stack.ts';

export interface SchedulerStackProps extends StackProps {
  config: InfraConfig;
  state: StateStack;
  workers: WorkersStack;
}

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());

export class SchedulerStack extends Stack {
  readonly functions: Record<FunctionName, NodejsFunction>;
  readonly tickRule: events.Rule;
  /** The group every cron schedule is created in (SLUICE_CRON_SCHEDULE_GROUP). */
  readonly cronScheduleGroup: scheduler.ScheduleGroup;
  /** What the cron schedules run as: may invoke the cron function and dead-letter to its queue. */
  readonly cronSchedulerRole: iam.Role;
  private readonly dispatchScalesWorkers: boolean;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: SchedulerStackProps) {
    super(scope, id, props);
    const { config, state, workers } = props;
    this.dispatchScalesWorkers = config.dispatchScalesWorkers;
    this.prefix = config.prefix;
    const names = physicalNames(config.prefix);
    const environment = backendEnvironment(this, config, state, {
      // The runtime's launcher (dispatch) switches on when SLUICE_ECS_CLUSTER is set.
      ...(config.dispatchScalesWorkers ? { clusterName: workers.cluster.clusterName } : {}),
      subnetIds: workers.workerSubnets.subnetIds,
      securityGroupId: workers.workerSecurityGroup.securityGroupId,
      ...(workers.algorithmTasks ? { algorithms: workers.algorithmTasks.names() } : {}),
    });
    const queues: Record<QueueName, sqs.IQueue[]> = {
      tasks: PRIORITIES.map((p) => state.taskQueues[p]),
      status: [state.statusQueue],
      event: [state.eventQueue],
      trigger: [state.triggerQueue],
    };

    // Cron triggers: the api function (on store changes) keeps one schedule per enabled trigger in
    // this group; deleting the stack deletes the group and so every schedule in it.
    this.cronScheduleGroup = new scheduler.ScheduleGroup(this, 'CronScheduleGroup', {
      scheduleGroupName: names.cronScheduleGroup,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cronFunctionArn = this.formatArn({
      service: 'lambda',
      resource: 'function',
      resourceName: names.cronFunction,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.cronSchedulerRole = new iam.Role(this, 'CronSchedulerRole', {
      roleName: names.cronSchedulerRole(this.region),
      description: 'EventBridge Scheduler: runs the Sluice cron schedules (invokes the cron function only)',
      // Only schedules of this account's Sluice group may use it (confused-deputy guard).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnEquals: { 'aws:SourceArn': this.cronScheduleGroup.scheduleGroupArn },
        },
      }),
    });
    this.cronSchedulerRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'InvokeCronFunction',
        actions: ['lambda:InvokeFunction'],
        resources: [cronFunctionArn],
      }),
    );
    // Scheduler sends an event it could not deliver to the schedule's DeadLetterConfig with this role.
    state.cronDeadLetters.grantSendMessages(this.cronSchedulerRole);
    const cronSchedules = {
      scheduleArn: this.formatArn({
        service: 'scheduler',
        resource: 'schedule',
        resourceName: `${names.cronScheduleGroup}/*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
      roleArn: this.cronSchedulerRole.roleArn,
    };

    const fns = {} as Record<FunctionName, NodejsFunction>;
    for (const name of FUNCTION_NAMES) {
      const spec = FUNCTION_SPECS[name];
      const entry = path.join(REPO_ROOT, config.functionsDir, `${name}.ts`);
      if (!existsSync(entry)) {
        throw new Error(
          `handler entry ${path.relative(REPO_ROOT, entry)} not found (context functionsDir=${config.functionsDir}); ` +
            'every FUNCTION_NAMES entry needs <functionsDir>/<name>.ts exporting `handler`',
        );
      }
      const id = `${pascal(name)}Function`;
      // Own role and log group per function: logs go to this group only (no managed policy).
      const logGroup = new logs.LogGroup(this, `${id}Logs`, {
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Sluice ${name} function`,
      });
      logGroup.grantWrite(role);
      const fn = new NodejsFunction(this, id, {
        entry,
        handler: 'handler',
        description: spec.description,
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.ARM_64,
        memorySize: spec.memoryMiB,
        timeout: Duration.seconds(spec.timeoutSeconds),
        role,
        logGroup,
        functionName: name === 'cron' ? names.cronFunction : undefined,
        reservedConcurrentExecutions:
          name === 'dispatch' && config.dispatchConcurrency > 0 ? config.dispatchConcurrency : undefined,
        environment: { ...environment, NODE_OPTIONS: '--enable-source-maps' },
        // After Lambda's own retries, a failed asynchronous invocation is kept (and alarmed on).
        ...(spec.asyncInvoked ? { onFailure: new destinations.SqsDestination(state.failedInvocations) } : {}),
        projectRoot: REPO_ROOT,
        depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
        bundling: {
          format: OutputFormat.ESM,
          target: 'node22',
          minify: true,
          sourceMap: true,
          // The SDK version the code was tested with, not whatever the runtime ships.
          bundleAwsSDK: true,
          // Native modules of the embedded backend; never loaded on Lambda.
          externalModules: ['better-sqlite3', 'lz4-napi'],
          // CommonJS dependencies call require(); give them one inside the ESM bundle.
          banner:
            "import { createRequire as __sluiceCreateRequire } from 'node:module'; const require = __sluiceCreateRequire(import.meta.url);",
          // The dashboard beside the handler (functions/api.ts serves it): built from dashboard/ by
          // esbuild like the function itself, offline; nothing is fetched at run time.
          ...(spec.servesDashboard
            ? {
                commandHooks: {
                  beforeBundling: () => [],
                  beforeInstall: () => [],
                  afterBundling: (inputDir: string, outputDir: string) => [
                    `node "${path.join(inputDir, 'scripts', 'build-dashboard.mjs')}" "${path.join(outputDir, 'dashboard')}"`,
                  ],
                },
              }
            : {}),
        },
      });
      this.grant(fn, name, state, workers, queues, cronSchedules);
      if (spec.consumes) {
        fn.addEventSource(
          new SqsEventSource(queues[spec.consumes.queue][0]!, {
            batchSize: spec.consumes.batchSize,
            maxConcurrency: spec.consumes.maxConcurrency,
            reportBatchItemFailures: true,
          }),
        );
      }
      fns[name] = fn;
    }
    this.functions = fns;

    // S3 → s3-trigger goes through the state stack's trigger queue (see StateStack): the event
    // source above consumes it, so nothing here points back at the bucket.

    // The tick (dispatch): ttl enforcement, stuck-job reconciliation, worker fleet size. Its rule
    // name is outside the cron prefix, so it is never mistaken for a cron trigger.
    this.tickRule = new events.Rule(this, 'TickRule', {
      ruleName: `${config.prefix}-tick`,
      description: 'Sluice tick: ttl enforcement, reconciliation, worker fleet size',
      schedule: events.Schedule.rate(Duration.minutes(config.tickMinutes)),
    });
    for (const name of FUNCTION_NAMES) {
      if (FUNCTION_SPECS[name].tick) {
        this.tickRule.addTarget(new targets.LambdaFunction(fns[name], { retryAttempts: 2 }));
      }
    }
  }

  private grant(
    fn: NodejsFunction,
    name: FunctionName,
    state: StateStack,
    workers: WorkersStack,
    queues: Record<QueueName, sqs.IQueue[]>,
    cronSchedules: { scheduleArn: string; roleArn: string },
  ): void {
    const spec = FUNCTION_SPECS[name];
    // What every coordinator needs (see FUNCTION_SPECS), with exact actions (data-grants.ts).
    grantTable(fn, 'jobs', state.jobsTable, 'write');
    grantTable(fn, 'tasks', state.tasksTable, 'write');
    if (spec.registryWrites === 'all') grantTable(fn, 'registry', state.registryTable, 'write');
    else grantRegistryRuntime(fn, state.registryTable);
    grantBlobs(fn, state.blobBucket);
    if (name === 'api') {
      // Answers too large for a Lambda response go out through a presigned URL (large-answers.ts).
      grantObjects(fn, state.blobBucket, LARGE_ANSWER_PREFIX, ['s3:GetObject', 's3:PutObject']);
      // Code uploads arrive through the API (stored by their SHA-256; large ones PUT to uploads/
      // through a presigned URL, read once and deleted); the workers read them (workers-stack.ts).
      grantObjects(fn, state.codeBucket, CODE_KEY_PREFIX, ['s3:GetObject', 's3:PutObject']);
      grantObjects(fn, state.codeBucket, CODE_UPLOAD_PREFIX, [
        's3:GetObject',
        's3:PutObject',
        's3:DeleteObject',
      ]);
    }
    grantQueues(
      fn,
      spec.sends.flatMap((q) => queues[q]),
      ['sqs:SendMessage'],
    );
    // Aging looks at levels 1-4 (a task at 5 has nowhere to go) and moves or re-sends what it saw.
    if (spec.agesTasks)
      grantQueues(fn, queues.tasks.slice(0, -1), ['sqs:ReceiveMessage', 'sqs:DeleteMessage']);
    if (spec.countsQueues) {
      grantQueues(fn, [...queues.tasks, ...queues.status, ...queues.event], ['sqs:GetQueueAttributes']);
    }
    if (spec.triggerBucket) {
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['s3:GetObject'],
        resourceArns: [state.triggerBucket.arnForObjects(`${TRIGGER_UPLOAD_PREFIX}*`)],
      });
      iam.Grant.addToPrincipal({
        grantee: fn,
        actions: ['s3:PutObject'],
        resourceArns: [state.triggerBucket.arnForObjects(`${TRIGGER_MARKER_PREFIX}*`)],
      });
    }

    const algorithms = workers.algorithmTasks;
    if (algorithms) {
      const targets = {
        prefix: physicalNames(this.prefix).algorithmPrefix,
        clusterArn: workers.cluster.clusterArn,
        templateQueue: state.taskQueues[3],
        taskRole: algorithms.taskRole,
        executionRole: algorithms.executionRole,
      };
      // Tasks of an image algorithm go to its own queue, from whoever enqueues them.
      if (spec.sends.includes('tasks')) grantAlgorithmQueues(fn, targets.prefix, ['sqs:SendMessage']);
      if (spec.algorithmImages === 'register') grantRegisterAlgorithms(fn, targets);
      if (spec.algorithmImages === 'run') grantRunAlgorithms(fn, targets);
    }

    if (spec.ecs && this.dispatchScalesWorkers) {
      const clusterArn = workers.cluster.clusterArn;
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ScaleWorkerService',
          actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
          resources: [workers.service.serviceArn],
        }),
      );
      const families = [workers.workerTaskDefinition.family, workers.algorithmTaskDefinition.family];
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'RunSluiceTasks',
          actions: ['ecs:RunTask'],
          resources: families.map((family) =>
            this.formatArn({
              service: 'ecs',
              resource: 'task-definition',
              resourceName: `${family}:*`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ),
          conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ManageSluiceTasks',
          actions: ['ecs:StopTask', 'ecs:DescribeTasks', 'ecs:TagResource'],
          resources: [
            this.formatArn({
              service: 'ecs',
              resource: 'task',
              resourceName: `${workers.cluster.clusterName}/*`,
              arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
            }),
          ],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListSluiceTasks',
          // ListTasks is authorized on container instances, with the cluster as a condition key.
          actions: ['ecs:ListTasks'],
          resources: ['*'],
          conditions: { ArnEquals: { 'ecs:cluster': clusterArn } },
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'PassSluiceTaskRoles',
          actions: ['iam:PassRole'],
          resources: [
            workers.taskRole.roleArn,
            workers.executionRole.roleArn,
            ...(algorithms ? [algorithms.taskRole.roleArn, algorithms.executionRole.roleArn] : []),
          ],
          conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
        }),
      );
    }

    if (spec.cronSchedules) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ManageCronSchedules',
          actions: [
            'scheduler:CreateSchedule',
            'scheduler:UpdateSchedule',
            'scheduler:DeleteSchedule',
            'scheduler:GetSchedule',
          ],
          resources: [cronSchedules.scheduleArn],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ListCronSchedules',
          // ListSchedules has no resource type (`*` is required); read-only, the request names the group.
          actions: ['scheduler:ListSchedules'],
          resources: ['*'],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'PassCronSchedulerRole',
          actions: ['iam:PassRole'],
          resources: [cronSchedules.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }
  }
}
