// Cron triggers on AWS through EventBridge Scheduler: the api handler (store and cron routes) keeps
// one schedule per enabled trigger in the group, sent by the real SDK to the Scheduler stand-in
// (test/helpers/scheduler-server.ts); a due schedule invokes the cron handler, which runs the
// pipeline once per firing however often it is delivered; an event the cron function never
// accepts is retried, then lands in the dead-letter queue (SQS emulator). Everything else runs on
// the emulators.
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient, createSqsClient } from '../../../shared/adapters/aws/clients.ts';
import { AWS_ENV } from '../../../shared/adapters/aws/config.ts';
import { createS3Client } from '../../../shared/adapters/aws/s3-client.ts';
import { scheduleName } from '../../../shared/adapters/aws/scheduler-cron.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import type { JobState } from '../../../shared/ports/job-state.ts';
import { AwsEngine, awsConfigFromEnv } from '../../../shared/runtime/aws/aws-engine.ts';
import { createApiHandler } from '../../../shared/runtime/aws/handlers/api.ts';
import { createCronHandler } from '../../../shared/runtime/aws/handlers/cron.ts';
import { schedulerCronFromEnv } from '../../../shared/runtime/aws/handlers/engine-from-env.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { type SchedulerStandIn, startSchedulerStandIn } from '../../helpers/scheduler-server.ts';

const GROUP = 'sluice-cron';
const CRON_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-cron';
const ROLE_ARN = 'arn:aws:iam::000000000000:role/sluice-cron-scheduler-us-east-1';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let standIn: SchedulerStandIn;
let engine: AwsEngine;
let dlqUrl: string;
let failDeliveries = false;
const fired: unknown[] = [];

beforeAll(async () => {
  bed = await startAwsTestBed('cron');
  const sqs = createSqsClient({ ...process.env, ...bed.env });
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${bed.prefix}-cron-dead-letters` })))
    .QueueUrl as string;
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn as string;
  const env = {
    ...process.env,
    ...bed.env,
    [AWS_ENV.cronScheduleGroup]: GROUP,
    [AWS_ENV.cronTargetArn]: CRON_ARN,
    [AWS_ENV.cronSchedulerRoleArn]: ROLE_ARN,
    [AWS_ENV.cronDeadLetterArn]: dlqArn,
  };
  const cronHandler = createCronHandler(() => engine);
  standIn = await startSchedulerStandIn({
    groups: [GROUP],
    // Scheduler invokes the function its target names; the cron handler is that function here.
    async deliver(arn, event) {
      if (failDeliveries) throw new Error('Lambda throttled the invocation');
      if (arn !== CRON_ARN) throw new Error(`no function ${arn}`);
      fired.push(await cronHandler(event as Record<string, unknown>));
    },
    async deadLetter(arn, body, attributes) {
      expect(arn).toBe(dlqArn);
      const { SendMessageCommand } = await import('@aws-sdk/client-sqs');
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: dlqUrl,
          MessageBody: body,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
          ),
        }),
      );
    },
  });
  const scheduler = new SchedulerClient({ region: 'us-east-1', endpoint: standIn.endpoint });
  engine = new AwsEngine({
    config: awsConfigFromEnv(env),
    env,
    clients: { dynamo: createDocumentClient(env), sqs, s3: createS3Client(env) },
    builtins: allBuiltins(),
    cron: {
      refresh: (changed) => cronControl.refresh(changed),
      list: () => cronControl.list(),
    },
  });
  const cronControl = schedulerCronFromEnv(env, engine.registry, scheduler);
}, 60_000);

afterAll(async () => {
  await standIn?.close();
  await bed?.close();
});

const api = createApiHandler(() => engine);
const call = async (method: string, path: string, body?: unknown) => {
  const r = await api({
    httpMethod: method,
    path: `/api/v1${path}`,
    headers: { 'content-type': 'application/json' },
    queryStringParameters: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {},
  } as unknown as APIGatewayProxyEvent);
  return { status: r.statusCode, body: JSON.parse(r.body || 'null') };
};
const pipeline = (name: string, cron: Record<string, unknown>) => ({
  name,
  nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [name] }],
  triggers: { cron },
});
const byName = () => new Map(standIn.schedules(GROUP).map((s) => [s.Name, s]));

describe('cron triggers as EventBridge Scheduler schedules', () => {
  it('storing pipelines creates one schedule per enabled trigger, in its time zone, with retries and a DLQ', async () => {
    for (const p of [
      pipeline('tokyo-nightly', { pattern: '0 3 * * *', enabled: true, timeZone: 'Asia/Tokyo' }),
      pipeline('weekdays', { pattern: '30 0 12 * * 1-5', enabled: true }),
      pipeline('off', { pattern: '0 * * * *', enabled: false }),
      pipeline('team:hourly', { pattern: '15 * * * *', enabled: true }),
    ])
      expect((await call('POST', '/store/pipelines', p)).status).toBe(201);
    const s = byName();
    expect([...s.keys()].sort()).toEqual([scheduleName('team:hourly'), 'tokyo-nightly', 'weekdays'].sort());
    expect(scheduleName('team:hourly')).toMatch(/^team_hourly-[0-9a-f]{8}$/);
    const tokyo = s.get('tokyo-nightly');
    expect(tokyo).toMatchObject({
      GroupName: GROUP,
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Tokyo',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: CRON_ARN,
        RoleArn: ROLE_ARN,
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: expect.stringContaining('cron-dead-letters') },
      },
    });
    expect(JSON.parse(tokyo?.Target.Input ?? '{}')).toEqual({
      sluiceCron: { pipelineName: 'tokyo-nightly', scheduledTime: '<aws.scheduler.scheduled-time>' },
    });
    expect(s.get('weekdays')).toMatchObject({
      ScheduleExpression: 'cron(0 12 ? * 2-6 *)',
      ScheduleExpressionTimezone: 'UTC',
    });
    // 03:00 in Tokyo is 18:00 UTC the day before; the API lists the same next run.
    const after = new Date('2026-01-01T00:00:00Z');
    expect(standIn.nextFire(GROUP, 'tokyo-nightly', after)?.toISOString()).toBe('2026-01-01T18:00:00.000Z');
    const list = (await call('GET', '/cron/list')).body as {
      name: string;
      timeZone?: string;
      nextRun?: string;
    }[];
    const listed = list.find((c) => c.name === 'tokyo-nightly');
    expect(listed?.timeZone).toBe('Asia/Tokyo');
    expect(new Date(listed?.nextRun as string).getUTCHours()).toBe(18);
  });

  it('rejects a time zone that is not IANA, creating nothing', async () => {
    const before = standIn.requests.length;
    const r = await call(
      'POST',
      '/store/pipelines',
      pipeline('mars', { pattern: '0 3 * * *', enabled: true, timeZone: 'Mars/Olympus' }),
    );
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('triggers.cron.timeZone');
    expect(standIn.requests.length).toBe(before);
  });

  it('a due schedule runs its pipeline through the cron function, with origin cron', async () => {
    fired.length = 0;
    // 2026-01-01T18:00Z is 03:00 in Tokyo: only tokyo-nightly is due in this minute.
    const firings = await standIn.fireDue(new Date('2026-01-01T17:59:30Z'), new Date('2026-01-01T18:00:00Z'));
    expect(firings).toEqual([
      { schedule: 'tokyo-nightly', attempts: 1, delivered: true, deadLettered: false },
    ]);
    const [result] = fired as { jobId?: string }[];
    const job = (await engine.jobs.getJob(result?.jobId as string)) as JobState;
    expect(job.pipeline.name).toBe('tokyo-nightly');
    expect(job.origin).toEqual({ kind: 'cron' });
    // The same firing delivered again (Scheduler and Lambda deliver at least once) starts nothing.
    await standIn.fireDue(new Date('2026-01-01T17:59:30Z'), new Date('2026-01-01T18:00:00Z'));
    expect(fired[1]).toEqual({ jobId: result?.jobId, duplicate: true });
    // The next night is another firing, another job.
    await standIn.fireDue(new Date('2026-01-02T17:59:30Z'), new Date('2026-01-02T18:00:00Z'));
    expect((fired[2] as { jobId: string }).jobId).not.toBe(result?.jobId);
  });

  it('retries an event the cron function does not take, then dead-letters it', async () => {
    failDeliveries = true;
    try {
      const firings = await standIn.fireDue(
        new Date('2026-01-01T18:59:30Z'),
        new Date('2026-01-01T19:15:00Z'),
      );
      expect(firings).toEqual([
        { schedule: scheduleName('team:hourly'), attempts: 4, delivered: false, deadLettered: true },
      ]);
    } finally {
      failDeliveries = false;
    }
    const sqs = createSqsClient({ ...process.env, ...bed.env });
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, WaitTimeSeconds: 1, MessageAttributeNames: ['All'] }),
    );
    const [m] = got.Messages ?? [];
    expect(JSON.parse(m?.Body ?? '{}')).toEqual({
      sluiceCron: { pipelineName: 'team:hourly', scheduledTime: '2026-01-01T19:15:00Z' },
    });
    expect(m?.MessageAttributes?.ERROR_CODE?.StringValue).toBe('AWS.Scheduler.TargetInvocationFailed');
  });

  it('cron start/stop and deletes update and remove schedules; stray schedules in the group go', async () => {
    // A schedule no pipeline owns (left by a renamed pipeline, say).
    const scheduler = new SchedulerClient({ region: 'us-east-1', endpoint: standIn.endpoint });
    const { CreateScheduleCommand } = await import('@aws-sdk/client-scheduler');
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'stray',
        GroupName: GROUP,
        ScheduleExpression: 'cron(0 1 * * ? *)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: CRON_ARN, RoleArn: ROLE_ARN, Input: '{}' },
      }),
    );
    const put = standIn.requests.length;
    const started = await call('POST', '/cron/start', { name: 'weekdays', pattern: '*/5 * * * 1-5' });
    expect(started.status).toBe(200);
    // One list, the changed schedule rewritten, the stray deleted; the others are left alone.
    expect(standIn.requests.slice(put).map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'GET /schedules',
      'DELETE /schedules/stray',
      'PUT /schedules/weekdays',
    ]);
    let s = byName();
    expect(s.get('weekdays')?.ScheduleExpression).toBe('cron(*/5 * ? * 2-6 *)');
    expect(s.has('stray')).toBe(false);
    // Stopping keeps the time zone on the stored trigger; starting again brings it back.
    expect((await call('POST', '/cron/stop', { name: 'tokyo-nightly' })).status).toBe(200);
    expect(byName().has('tokyo-nightly')).toBe(false);
    expect((await call('POST', '/cron/start', { name: 'tokyo-nightly' })).status).toBe(200);
    expect(byName().get('tokyo-nightly')?.ScheduleExpressionTimezone).toBe('Asia/Tokyo');
    expect((await call('DELETE', '/store/pipelines/weekdays')).status).toBe(200);
    s = byName();
    expect(s.has('weekdays')).toBe(false);
    expect([...s.keys()].sort()).toEqual([scheduleName('team:hourly'), 'tokyo-nightly'].sort());
    scheduler.destroy();
  });
});
