// Alerting for a deployment: alarms on every dead-letter queue's depth, Lambda errors and
// throttles, the age of the oldest waiting message, API 5xx, and ECS tasks that failed to start,
// all sent to one SNS topic the deployer subscribes to (`-c alarmEmail=...` or any subscription
// to the AlarmTopicArn output); and a CloudWatch dashboard of the same signals.
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { InfraConfig } from '../config.ts';
import type { ApiStack } from './api-stack.ts';
import type { SchedulerStack } from './scheduler-stack.ts';
import type { StateStack } from './state-stack.ts';
import type { WorkersStack } from './workers-stack.ts';

/** Oldest waiting message before an alarm: tasks may wait behind a busy fleet, events may not. */
export const OLDEST_TASK_MESSAGE_ALARM = Duration.hours(1);
export const OLDEST_EVENT_MESSAGE_ALARM = Duration.minutes(10);

export interface MonitoringStackProps extends StackProps {
  config: InfraConfig;
  state: StateStack;
  workers: WorkersStack;
  scheduler: SchedulerStack;
  api: ApiStack;
}

export class MonitoringStack extends Stack {
  readonly topic: sns.Topic;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { config, state, workers, scheduler, api } = props;
    // A customer-managed key: CloudWatch and EventBridge must be allowed to publish encrypted.
    const key = new kms.Key(this, 'AlarmTopicKey', {
      enableKeyRotation: true,
      description: 'Sluice alarm topic encryption',
    });
    for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          principals: [new iam.ServicePrincipal(service)],
          resources: ['*'],
        }),
      );
    }
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: `Sluice alarms (${config.prefix})`,
      masterKey: key,
      enforceSSL: true,
    });
    if (config.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    const action = new cwActions.SnsAction(this.topic);
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    for (const dlq of state.deadLetterQueues) {
      alarm(
        `${dlq.node.id}Depth`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        1,
        `Messages in ${dlq.node.id}: work that failed every retry (inspect, fix, redrive)`,
      );
    }
    const oldest = (q: sqs.IQueue, limit: Duration) =>
      alarm(
        `${q.node.id}OldestMessage`,
        q.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
        limit.toSeconds(),
        `A message waited over ${limit.toHumanString()} in ${q.node.id}`,
      );
    for (const q of Object.values(state.taskQueues)) oldest(q, OLDEST_TASK_MESSAGE_ALARM);
    for (const q of [state.statusQueue, state.eventQueue, state.triggerQueue])
      oldest(q, OLDEST_EVENT_MESSAGE_ALARM);

    for (const [name, fn] of Object.entries(scheduler.functions)) {
      const period = { period: Duration.minutes(5), statistic: 'Sum' };
      alarm(`${fn.node.id}Errors`, fn.metricErrors(period), 1, `The ${name} function failed`);
      alarm(`${fn.node.id}Throttles`, fn.metricThrottles(period), 1, `The ${name} function was throttled`);
    }
    alarm(
      'Api5xx',
      api.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
      1,
      'The REST API answered 5xx',
    );

    // ECS has no metric for tasks that never started (image pull, capacity, ENI): its events do.
    new events.Rule(this, 'TaskStartFailures', {
      description: 'Sluice worker or algorithm tasks that failed to start',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [workers.cluster.clusterArn],
          lastStatus: ['STOPPED'],
          stopCode: ['TaskFailedToStart'],
        },
      },
      targets: [new targets.SnsTopic(this.topic)],
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${config.prefix}-overview`,
      defaultInterval: Duration.hours(3),
    });
    const queueWidget = (title: string, queues: sqs.IQueue[], metric: 'depth' | 'age') =>
      new cloudwatch.GraphWidget({
        title,
        width: 12,
        left: queues.map((q) =>
          metric === 'depth'
            ? q.metricApproximateNumberOfMessagesVisible({ label: q.node.id, period: Duration.minutes(1) })
            : q.metricApproximateAgeOfOldestMessage({ label: q.node.id, period: Duration.minutes(1) }),
        ),
      });
    const fns = Object.entries(scheduler.functions);
    this.dashboard.addWidgets(
      queueWidget('Waiting messages', state.allQueues, 'depth'),
      queueWidget('Oldest message age (s)', state.allQueues, 'age'),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        width: 12,
        left: fns.map(([name, fn]) =>
          fn.metricErrors({ label: `${name} errors`, period: Duration.minutes(5) }),
        ),
        right: fns.map(([name, fn]) =>
          fn.metricThrottles({ label: `${name} throttles`, period: Duration.minutes(5) }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p95, ms)',
        width: 12,
        left: fns.map(([name, fn]) => fn.metricDuration({ label: name, statistic: 'p95' })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'API requests, 4xx, 5xx',
        width: 12,
        left: [api.api.metricCount(), api.api.metricClientError(), api.api.metricServerError()],
      }),
      queueWidget('Dead-letter queues', state.deadLetterQueues, 'depth'),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 24, alarms: this.alarms }),
    );
    new CfnOutput(this, 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'Subscribe to this SNS topic to receive Sluice alarms',
    });
  }
}
