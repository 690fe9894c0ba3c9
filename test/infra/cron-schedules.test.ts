// Cron triggers on AWS through EventBridge Scheduler: the stack owns the schedule group (so deleting
// it deletes every schedule the api function made in it), the role the schedules run as (invoke the
// cron function, dead-letter to one queue, nothing else), the dead-letter queue (alarmed on), and
// the api function's rights limited to that group and that role.
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_ENV, FUNCTION_NAMES } from '../../shared/adapters/aws/config.ts';
import { type Synthesized, synthSluice } from '../helpers/cdk.ts';
import { type Json, resourcesOfType, roleStatements } from '../helpers/cfn.ts';

let s: Synthesized;
let state: Template;
let scheduler: Template;
let monitoring: Template;

beforeAll(() => {
  s = synthSluice({}, { bundle: false });
  state = Template.fromStack(s.state);
  scheduler = Template.fromStack(s.scheduler);
  monitoring = Template.fromStack(s.monitoring);
}, 300_000);
afterAll(() => s?.cleanup());

const pascal = (name: string) => name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
const one = <T>(xs: T[]): T => {
  expect(xs).toHaveLength(1);
  return xs[0] as T;
};
const functionOf = (name: string) =>
  one(
    Object.entries(resourcesOfType(scheduler, 'AWS::Lambda::Function')).filter(([id]) =>
      new RegExp(`^${pascal(name)}Function[0-9A-F]{8}$`).test(id),
    ),
  );
const statementsOf = (name: string) =>
  roleStatements(scheduler, functionOf(name)[1].Properties.Role['Fn::GetAtt'][0]);
const text = (v: Json) => JSON.stringify(v);

describe('cron schedules (EventBridge Scheduler)', () => {
  it('creates the schedule group in the scheduler stack, deleted with it', () => {
    const [id, group] = one(Object.entries(resourcesOfType(scheduler, 'AWS::Scheduler::ScheduleGroup')));
    expect(group.Properties.Name).toBe('sluice-cron');
    expect(group.DeletionPolicy).toBe('Delete');
    // Schedules are made at run time, none by the stack; every function knows the group.
    scheduler.resourceCountIs('AWS::Scheduler::Schedule', 0);
    scheduler.resourceCountIs('AWS::Events::Rule', 1); // the tick only
    const env = functionOf('api')[1].Properties.Environment.Variables;
    expect(env[AWS_ENV.cronScheduleGroup]).toBe('sluice-cron');
    expect(text(env[AWS_ENV.cronSchedulerRoleArn])).toContain(':role/sluice-cron-scheduler-');
    expect(text(env[AWS_ENV.cronDeadLetterArn])).toMatch(/CronDeadLetters[0-9A-F]{8}/);
    expect(id).toMatch(/^CronScheduleGroup/);
  });

  it('has a scheduler role that only Scheduler for this group assumes and that only invokes cron', () => {
    const [roleId, role] = one(
      Object.entries(resourcesOfType(scheduler, 'AWS::IAM::Role')).filter(([id]) =>
        id.startsWith('CronSchedulerRole'),
      ),
    );
    const [trust] = role.Properties.AssumeRolePolicyDocument.Statement;
    expect(trust.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(Object.keys(trust.Condition.StringEquals)).toEqual(['aws:SourceAccount']);
    expect(text(trust.Condition.ArnEquals['aws:SourceArn'])).toMatch(/CronScheduleGroup[0-9A-F]{8}/);
    const statements = roleStatements(scheduler, roleId);
    const actions = statements.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual([
      'lambda:InvokeFunction',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    const invoke = one(statements.filter((st) => st.Action === 'lambda:InvokeFunction'));
    expect(text(invoke.Resource)).toContain(':function:sluice-cron"');
    const send = one(statements.filter((st) => [st.Action].flat().includes('sqs:SendMessage')));
    expect(text(send.Resource)).toMatch(/CronDeadLetters[0-9A-F]{8}/);
  });

  it('keeps undeliverable cron events in an encrypted dead-letter queue that is alarmed on', () => {
    const [dlqId, dlq] = one(
      Object.entries(resourcesOfType(state, 'AWS::SQS::Queue')).filter(([id]) =>
        id.startsWith('CronDeadLetters'),
      ),
    );
    expect(dlq.Properties.SqsManagedSseEnabled).toBe(true);
    expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const alarms = Object.values(resourcesOfType(monitoring, 'AWS::CloudWatch::Alarm')).filter(
      (a) =>
        a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        text(a.Properties.Dimensions).includes(dlqId.replace(/[0-9A-F]{8}$/, '')),
    );
    expect(alarms.length).toBe(1);
  });

  it('lets only the api function manage schedules, of this group, and pass only the scheduler role', () => {
    const api = statementsOf('api');
    const manage = one(api.filter((st) => [st.Action].flat().includes('scheduler:CreateSchedule')));
    expect([manage.Action].flat().sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:GetSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(text(manage.Resource)).toContain(':schedule/sluice-cron/*');
    const list = one(api.filter((st) => st.Action === 'scheduler:ListSchedules'));
    expect(list.Resource).toBe('*');
    // (Its other PassRole, of the algorithm tasks' roles to ECS, is algorithm-images.test.ts's.)
    const pass = one(
      api.filter(
        (st) =>
          st.Action === 'iam:PassRole' &&
          st.Condition?.StringEquals?.['iam:PassedToService'] === 'scheduler.amazonaws.com',
      ),
    );
    expect(text(pass.Resource)).toMatch(/CronSchedulerRole[0-9A-F]{8}/);
    expect(pass.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    for (const name of FUNCTION_NAMES.filter((n) => n !== 'api')) {
      const actions = statementsOf(name).flatMap((st) => [st.Action].flat()) as string[];
      expect(
        actions.filter((a) => a.startsWith('scheduler:') || a.startsWith('events:')),
        name,
      ).toEqual([]);
    }
  });
});
