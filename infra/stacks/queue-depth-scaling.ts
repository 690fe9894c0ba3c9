// The worker service's AWS-side scaling guard: step scaling on the depth of the five task queues
// (CloudWatch's SQS metrics), which works without the dispatch tick's own sizing.
import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import type { InfraConfig } from '../config.ts';
import { PRIORITIES, type StateStack } from './state-stack.ts';

/**
 * Scale out on waiting tasks (visible messages), scale in only when nothing is waiting or
 * running (visible + in flight = 0 for 5 minutes): a busy worker is never taken away by this
 * policy. The dispatch tick also sets the desired count from the queue depth (faster than
 * CloudWatch's SQS metrics); this policy is the AWS-side guard that works without it.
 */
export function addQueueDepthScaling(
  service: ecs.FargateService,
  config: InfraConfig,
  state: StateStack,
): void {
  const scaling = service.autoScaleTaskCount({
    minCapacity: config.minWorkers,
    maxCapacity: config.maxWorkers,
  });
  // FILL: an idle queue stops reporting; missing data must count as 0, not block scale-in.
  const terms = (prefix: string) => PRIORITIES.map((p) => `FILL(${prefix}${p}, 0)`);
  const visible = terms('v');
  const inFlight = terms('f');
  const metricsOf = (prefix: string, metricName: string) =>
    Object.fromEntries(
      PRIORITIES.map((p) => [
        `${prefix}${p}`,
        state.taskQueues[p].metric(metricName, { statistic: 'Maximum', period: Duration.minutes(1) }),
      ]),
    );
  const waiting = new cloudwatch.MathExpression({
    label: 'Tasks waiting in the Sluice task queues',
    expression: visible.join(' + '),
    usingMetrics: metricsOf('v', 'ApproximateNumberOfMessagesVisible'),
    period: Duration.minutes(1),
  });
  const outstanding = new cloudwatch.MathExpression({
    label: 'Tasks waiting or running',
    expression: [...visible, ...inFlight].join(' + '),
    usingMetrics: {
      ...metricsOf('v', 'ApproximateNumberOfMessagesVisible'),
      ...metricsOf('f', 'ApproximateNumberOfMessagesNotVisible'),
    },
    period: Duration.minutes(1),
  });
  scaling.scaleOnMetric('ScaleOutOnWaitingTasks', {
    metric: waiting,
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { upper: 0, change: 0 },
      { lower: 1, change: +1 },
      { lower: 10, change: +3 },
      { lower: 100, change: +10 },
    ],
    cooldown: Duration.minutes(1),
    evaluationPeriods: 1,
  });
  scaling.scaleOnMetric('ScaleInWhenIdle', {
    metric: outstanding,
    // -maxWorkers is clamped to minCapacity: everything idle goes at once.
    adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
    scalingSteps: [
      { upper: 0, change: -config.maxWorkers },
      { lower: 1, change: 0 },
    ],
    cooldown: Duration.minutes(5),
    evaluationPeriods: 5,
  });
}
