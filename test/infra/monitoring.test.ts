// The monitoring stack, synthesized without bundling: alarms on every dead-letter queue, the age
// of the oldest message, Lambda errors and throttles and API 5xx, all to one encrypted SNS topic;
// ECS task start failures through an EventBridge rule; failure destinations of the asynchronously
// invoked functions; a dashboard. cdk-nag runs in the synth (it throws on any finding).
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_NAMES } from '../../shared/adapters/aws/config.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type Json, resourcesOfType } from '../helpers/cfn.ts';

let s: Synthesized;
let mon: Template;
let scheduler: Template;

beforeAll(() => {
  s = synthSluice({ alarmEmail: 'ops@example.com' }, { bundle: false });
  mon = Template.fromStack(s.monitoring);
  scheduler = Template.fromStack(s.scheduler);
}, 300_000);
afterAll(() => s?.cleanup());

const alarms = () => Object.values(resourcesOfType(mon, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
const topicRef = () => ({ Ref: Object.keys(resourcesOfType(mon, 'AWS::SNS::Topic'))[0] });

describe('monitoring stack', () => {
  it('sends every alarm to the one KMS-encrypted topic, with the e-mail subscribed', () => {
    mon.resourceCountIs('AWS::SNS::Topic', 1);
    mon.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    mon.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    mon.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const all = alarms();
    expect(all.length).toBeGreaterThan(20);
    for (const a of all) expect(a.AlarmActions).toEqual([topicRef()]);
  });

  it('alarms on the depth of every dead-letter queue (10: 8 queues, failed invocations, cron events)', () => {
    const dlq = alarms().filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(dlq).toHaveLength(10);
    for (const a of dlq)
      expect(a).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });

  it('alarms on the oldest message of each queue, Lambda errors and throttles, and API 5xx', () => {
    const all = alarms();
    expect(all.filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage')).toHaveLength(8);
    const task = all.find(
      (a) =>
        a.MetricName === 'ApproximateAgeOfOldestMessage' &&
        JSON.stringify(a.Dimensions).includes('TaskQueueP1'),
    );
    expect(task?.Threshold).toBe(3600);
    for (const metric of ['Errors', 'Throttles']) {
      const fn = all.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === metric);
      expect(fn, metric).toHaveLength(FUNCTION_NAMES.length);
    }
    expect(all.filter((a) => a.Namespace === 'AWS/ApiGateway' && a.MetricName === '5XXError')).toHaveLength(
      1,
    );
  });

  it('notifies the topic of ECS tasks of the cluster that failed to start', () => {
    mon.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: Match.objectLike({ lastStatus: ['STOPPED'], stopCode: ['TaskFailedToStart'] }),
      }),
      Targets: [Match.objectLike({ Arn: topicRef() })],
    });
  });

  it('has a dashboard of queues, functions, the API and the alarms', () => {
    mon.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const [d] = Object.values(resourcesOfType(mon, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(d?.Properties.DashboardBody);
    for (const title of ['Waiting messages', 'Function errors and throttles', 'API requests', 'Alarms'])
      expect(body).toContain(title);
  });

  it('sends failed asynchronous invocations of cron and dispatch to the failed-invocations queue', () => {
    const configs = Object.values(resourcesOfType(scheduler, 'AWS::Lambda::EventInvokeConfig')).map(
      (c) => c.Properties as Json,
    );
    expect(configs).toHaveLength(2);
    for (const c of configs)
      expect(JSON.stringify(c.DestinationConfig.OnFailure.Destination)).toMatch(
        /FailedInvocations[0-9A-F]{8}/,
      );
  });
});
