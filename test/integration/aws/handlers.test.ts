// The Lambda handlers with real event shapes, on the AWS adapters against the emulators (or
// LocalStack / an account with SLUICE_TEST_AWS=1): API Gateway proxy events, S3 puts of valid and
// invalid descriptors, cron events (their schedules: cron-schedules-aws.test.ts), SQS batches with a poison
// message (batchItemFailures, then the DLQ), duplicate status messages, a worker lost mid-task.

import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toScheduleExpression } from '../../../shared/adapters/aws/scheduler-cron.ts';
import { putPipeline } from '../../../shared/api/store.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import type { JobState } from '../../../shared/ports/job-state.ts';
import type { ClaimedTask } from '../../../shared/ports/task-queue.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { s3PutEvent, scheduledEvent, sqsRecord } from '../../../shared/runtime/aws-emulated/glue.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { proxyEvent } from '../../helpers/api-gateway-event.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { testBuiltins } from '../../helpers/engine.ts';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('handlers', { maxReceiveCount: 2, visibilitySeconds: 1 });
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    noWorker: true,
    s3PollMs: 0,
    leaseMs: 1000,
    heartbeatMs: 300,
    agingMs: 0,
    onError: () => {},
  });
});

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

async function waitFor<T>(f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const finalJob = (jobId: string) =>
  waitFor(async () => {
    const j = await stack.engine.jobs.getJob(jobId);
    return j && isJobFinal(j) && (await stack.engine.jobs.getResults(jobId)) !== undefined ? j : undefined;
  });

describe('api function (API Gateway proxy events → the REST router)', () => {
  it('runs a pipeline: 201 with a jobId, then its status', async () => {
    const res = await stack.handlers.api(
      proxyEvent('POST', '/api/v1/exec/raw', {
        name: 'api-run',
        nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [1] }],
      }),
    );
    expect(res.statusCode).toBe(201);
    const { jobId } = JSON.parse(res.body) as { jobId: string };
    const st = await stack.handlers.api(proxyEvent('GET', `/api/v1/exec/status/${jobId}`));
    expect(st.statusCode).toBe(200);
    expect(JSON.parse(st.body)).toMatchObject({ jobId, pipelineName: 'api-run' });
    // The api function deferred the expansion: the expand function (event queue) creates the task.
    const expanded = await waitFor(async () => {
      const j = await stack.engine.jobs.getJob(jobId);
      return j?.nodes.get('a')?.created === 1 ? j : undefined;
    });
    expect(expanded.nodes.get('a')).toMatchObject({ status: 'active', total: 1 });
  });

  it('answers 400 with the field for an invalid pipeline, and creates nothing', async () => {
    const before = (await stack.engine.jobs.listJobs({ pipelineName: 'bad-one', limit: 10 })).length;
    const res = await stack.handlers.api(
      proxyEvent('POST', '/api/v1/exec/raw', { name: 'bad-one', nodes: [{ nodeName: 'a' }] }),
    );
    expect(res.statusCode).toBe(400);
    const body = JSON.parse(res.body) as { error: { code: number; message: string; type: string } };
    expect(body.error).toMatchObject({ code: 400, type: 'INVALID_PIPELINE' });
    expect(body.error.message).toMatch(/algorithmName/);
    expect((await stack.engine.jobs.listJobs({ pipelineName: 'bad-one', limit: 10 })).length).toBe(before);
  });

  it('answers 400 for a body that is not JSON, 404 for unknown jobs and routes', async () => {
    const bad = await stack.handlers.api(proxyEvent('POST', '/api/v1/exec/raw', undefined, '{nope'));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body).error).toMatchObject({ code: 400, type: 'INVALID_JSON' });
    const missing = await stack.handlers.api(proxyEvent('GET', '/api/v1/exec/status/no-such-job'));
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body).error).toMatchObject({ code: 404, type: 'JOB_NOT_FOUND' });
    const route = await stack.handlers.api(proxyEvent('GET', '/api/v1/nothing/here'));
    expect(route.statusCode).toBe(404);
  });

  it('accepts HTTP API (v2) events too', async () => {
    const ev = {
      version: '2.0',
      routeKey: '$default',
      rawPath: '/api/v1/store/pipelines',
      rawQueryString: '',
      headers: {},
      isBase64Encoded: false,
      requestContext: { http: { method: 'GET' } },
    } as unknown as APIGatewayProxyEventV2;
    const res = await stack.handlers.api(ev);
    expect(res.statusCode).toBe(200);
    expect(Array.isArray(JSON.parse(res.body))).toBe(true);
  });
});

describe('s3-trigger function', () => {
  const bucket = () => bed.env.SLUICE_TRIGGER_BUCKET as string;
  const put = (key: string, body: string) =>
    stack.engine.s3.send(new PutObjectCommand({ Bucket: bucket(), Key: key, Body: body }));
  const read = async (key: string) => {
    const r = await stack.engine.s3.send(new GetObjectCommand({ Bucket: bucket(), Key: key }));
    return JSON.parse(await (r.Body as { transformToString(): Promise<string> }).transformToString());
  };

  it('a YAML descriptor put under pipelines/ runs it and records the job under jobs/', async () => {
    await put(
      'pipelines/hello.yaml',
      'name: s3-hello\nnodes:\n  - nodeName: a\n    algorithmName: echo\n    input: ["hi"]\n',
    );
    const [r] = await stack.handlers.s3Trigger(s3PutEvent(bucket(), 'pipelines/hello.yaml'));
    expect(r?.jobId).toBeTruthy();
    const marker = await read('jobs/pipelines/hello.yaml.job.json');
    expect(marker.jobId).toBe(r?.jobId);
    const job = (await stack.engine.jobs.getJob(r?.jobId as string)) as JobState;
    expect(job.origin).toEqual({ kind: 's3' });
  });

  it('an invalid descriptor writes jobs/<key>.error.json and starts nothing', async () => {
    await put('pipelines/broken.json', '{"name": "s3-broken", "nodes": [{"nodeName": "a"}]}');
    const [r] = await stack.handlers.s3Trigger(s3PutEvent(bucket(), 'pipelines/broken.json'));
    expect(r?.error?.code).toBeTruthy();
    const err = await read('jobs/pipelines/broken.json.error.json');
    expect(err.error.message).toMatch(/algorithmName/);
    expect(await stack.engine.jobs.listJobs({ pipelineName: 's3-broken' })).toEqual([]);
    // Markers and keys outside the upload prefix are never taken for descriptors.
    expect(
      await stack.handlers.s3Trigger(s3PutEvent(bucket(), 'jobs/pipelines/broken.json.error.json')),
    ).toEqual([]);
    await put(
      'elsewhere/x.json',
      '{"name": "s3-elsewhere", "nodes": [{"nodeName": "a", "algorithmName": "echo"}]}',
    );
    expect(await stack.handlers.s3Trigger(s3PutEvent(bucket(), 'elsewhere/x.json'))).toEqual([]);
  });

  it('a duplicated S3 event (at-least-once delivery, a retry) starts one run; a new upload another', async () => {
    const body = JSON.stringify({
      name: 's3-dup',
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [1] }],
    });
    await put('pipelines/dup.json', body);
    const event = s3PutEvent(bucket(), 'pipelines/dup.json', body.length, { eTag: 'e1', sequencer: '00AA' });
    // Delivered twice through the trigger queue (one SQS message each), once at the same time.
    const message = (id: string) =>
      sqsRecord({ MessageId: id, ReceiptHandle: id, Body: JSON.stringify(event) }, 'trigger');
    const { createS3TriggerQueueHandler } = await import(
      '../../../shared/runtime/aws/handlers/s3-trigger.ts'
    );
    const viaQueue = createS3TriggerQueueHandler(() => stack.engine);
    const res = await viaQueue({ Records: [message('m1'), message('m2')] });
    expect(res.batchItemFailures).toEqual([]);
    const [again] = await stack.handlers.s3Trigger(event);
    expect(again?.duplicate).toBe(true);
    const jobs = await stack.engine.jobs.listJobs({ pipelineName: 's3-dup' });
    expect(jobs).toHaveLength(1);
    expect((await read('jobs/pipelines/dup.json.job.json')).jobId).toBe(jobs[0]?.jobId);
    // S3's setup test event is acknowledged and ignored.
    const test = await viaQueue({
      Records: [
        sqsRecord({ MessageId: 't', ReceiptHandle: 't', Body: '{"Event":"s3:TestEvent"}' }, 'trigger'),
      ],
    });
    expect(test.batchItemFailures).toEqual([]);
    // Uploading the object again is a new event (new sequencer): a new run.
    const [next] = await stack.handlers.s3Trigger(
      s3PutEvent(bucket(), 'pipelines/dup.json', body.length, { eTag: 'e1', sequencer: '00AB' }),
    );
    expect(next?.duplicate).toBeUndefined();
    expect(await stack.engine.jobs.listJobs({ pipelineName: 's3-dup' })).toHaveLength(2);
  });

  it('the bucket poller (S3 notifications locally) runs new descriptors once', async () => {
    await put(
      'pipelines/polled.json',
      JSON.stringify({ name: 's3-polled', nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [2] }] }),
    );
    const { S3TriggerPoller } = await import('../../../shared/runtime/aws-emulated/glue.ts');
    const poller = new S3TriggerPoller(stack.engine.s3, bucket(), stack.handlers.s3Trigger);
    expect(await poller.pollOnce()).toBeGreaterThanOrEqual(1);
    expect(await poller.pollOnce()).toBe(0);
    expect((await stack.engine.jobs.listJobs({ pipelineName: 's3-polled' })).length).toBe(1);
  });
});

describe('cron function', () => {
  it('a cron event runs the stored pipeline with origin cron; anything else is skipped', async () => {
    await putPipeline(
      stack.engine.service.deps,
      {
        name: 'nightly',
        nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['tick'] }],
        triggers: { cron: { pattern: '0 3 * * *', enabled: true } },
      },
      'create',
    );
    const fired = await stack.handlers.cron({ sluiceCron: { pipelineName: 'nightly' } });
    expect(fired.jobId).toBeTruthy();
    const job = (await stack.engine.jobs.getJob(fired.jobId as string)) as JobState;
    expect(job.origin).toEqual({ kind: 'cron' });
    expect((await stack.handlers.cron({ sluiceCron: { pipelineName: 'no-such' } })).skipped).toBeTruthy();
    const ruleEvent = scheduledEvent('arn:aws:events:us-east-1:000000000000:rule/sluice-cron-nightly');
    expect((await stack.handlers.cron(ruleEvent)).skipped).toMatch(/not a Sluice cron event/);
  });

  it('translates cron patterns to Scheduler cron expressions', () => {
    expect(toScheduleExpression('0 3 * * *')).toBe('cron(0 3 * * ? *)');
    expect(toScheduleExpression('*/5 * * * 1-5')).toBe('cron(*/5 * ? * 2-6 *)');
    expect(toScheduleExpression('30 0 12 * * *')).toBe('cron(0 12 * * ? *)');
    expect(() => toScheduleExpression('* *')).toThrow(/5 or 6 fields/);
  });
});

/** Claims the tasks of one job the way a worker does (other jobs' messages are put back). */
async function claimOf(jobId: string, n: number): Promise<ClaimedTask[]> {
  const got: ClaimedTask[] = [];
  await waitFor(async () => {
    got.push(
      ...(await stack.engine.queue.claim(10, (t) => (t.jobId === jobId ? 'take' : 'skip'), Date.now())),
    );
    return got.length >= n ? true : undefined;
  });
  return got;
}

/** The task as a worker reports it with its outcome. */
const snapshot = (t: ClaimedTask | undefined) => {
  if (!t) throw new Error('no task');
  const { lease: _lease, input: _input, taskId: _id, ...rest } = t;
  return { ...rest, attempt: t.attempt ?? 1 };
};

describe('status function (SQS)', () => {
  it('reports a poison message in batchItemFailures and processes the rest; the DLQ gets it', async () => {
    const { engine } = stack;
    const job = await engine.coordinator.submit({
      name: 'poison-batch',
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['x'] }],
    });
    const [t] = await claimOf(job.jobId, 1);
    expect(t?.jobId).toBe(job.jobId);
    const good = JSON.stringify({ taskId: t?.taskId, status: 'succeeded', result: 'x', task: snapshot(t) });
    const event: SQSEvent = {
      Records: [
        sqsRecord({ MessageId: 'poison-1', ReceiptHandle: 'r1', Body: '{not json' }, 'q'),
        sqsRecord({ MessageId: 'good-1', ReceiptHandle: 'r2', Body: good }, 'q'),
      ],
    };
    const res = await stack.handlers.status(event);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'poison-1' }]);
    await engine.queue.settle(t as never);
    expect((await finalJob(job.jobId)).status).toBe('completed');

    // Through the queue: the poller leaves the failure for redelivery; after maxReceiveCount (2)
    // receives the queue moves it to its DLQ.
    await engine.sqs.send(
      new (await import('@aws-sdk/client-sqs')).SendMessageCommand({
        QueueUrl: bed.env.SLUICE_STATUS_QUEUE_URL,
        MessageBody: '{"poison": true}',
      }),
    );
    const dlq = bed.dlqUrls.status;
    const moved = await waitFor(async () => {
      const r = await engine.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, WaitTimeSeconds: 1 }));
      return r.Messages?.[0];
    }, 25_000);
    expect(moved.Body).toBe('{"poison": true}');
  });

  it('a duplicate status message is a no-op: the task counts once', async () => {
    const { engine } = stack;
    const job = await engine.coordinator.submit({
      name: 'dup-status',
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['#[1...3]'] }],
    });
    const claimed = await claimOf(job.jobId, 3);
    expect(claimed).toHaveLength(3);
    const first = claimed.find((c) => c.batchIndex === 1);
    const body = JSON.stringify({
      taskId: first?.taskId,
      status: 'succeeded',
      result: 1,
      task: snapshot(first),
    });
    const ev = (id: string): SQSEvent => ({
      Records: [sqsRecord({ MessageId: id, ReceiptHandle: id, Body: body }, 'q')],
    });
    // The same outcome delivered three times, twice in one batch.
    await stack.handlers.status({ Records: [...ev('d1').Records, ...ev('d2').Records] });
    await stack.handlers.status(ev('d3'));
    const tallies = await engine.state.tallies.tallies(job.jobId, ['a']);
    expect(tallies.get('a')).toMatchObject({ succeeded: 1, failed: 0 });
    const state = (await engine.jobs.getJob(job.jobId)) as JobState;
    expect(state.nodes.get('a')).toMatchObject({ status: 'active', succeeded: 1 });
    for (const c of claimed) await engine.queue.settle(c);
    await engine.coordinator.stop(job.jobId);
  });
  it('a typed failure travels through the status queue into the task item and the API', async () => {
    const { engine } = stack;
    const job = await engine.coordinator.submit({
      name: 'typed-failure',
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['x'], retry: { policy: 'OnError', limit: 2 } }],
    });
    const [t] = await claimOf(job.jobId, 1);
    const failure = {
      type: 'io-failures',
      message: 'cp: 1 item(s) failed',
      retryable: false,
      code: 'IO_FAILURES',
      details: { operation: 'cp', failures: [{ path: 'sub/a.txt', message: 'ENOTDIR' }] },
    };
    const body = JSON.stringify({
      taskId: t?.taskId,
      status: 'failed',
      error: 'cp: 1 item(s) failed',
      failure,
      task: snapshot(t),
    });
    await stack.handlers.status({
      Records: [sqsRecord({ MessageId: 'f1', ReceiptHandle: 'f1', Body: body }, 'q')],
    });
    await engine.queue.settle(t as never);
    // Not retryable: OnError does not run it again, the job fails.
    const done = await finalJob(job.jobId);
    expect(done.status).toBe('failed');
    expect(done.nodes.get('a')?.retried).toBe(0);
    const listed = await stack.handlers.api(proxyEvent('GET', `/api/v1/exec/tasks/${job.jobId}`));
    expect(JSON.parse(listed.body)).toMatchObject([
      { status: 'failed', error: 'cp: 1 item(s) failed', failure },
    ]);
  });
});

describe('worker', () => {
  it('a worker lost mid-task: its lease expires, the task is redelivered and retried (OnCrash)', async () => {
    const { engine } = stack;
    const a = new AbortController();
    const first = stack.startWorker(new InlineRunner(builtins, 2), 2, a.signal);
    const job = await engine.coordinator.submit({
      name: 'lost-worker',
      nodes: [{ nodeName: 'slow', algorithmName: 'sleep', input: [1500, 'done'] }],
    });
    await waitFor(async () => (first.engine.queue.leaseOf(`${job.jobId}.slow`) ? true : undefined));
    // "Kill" it: no drain time, no report, no heartbeat; its message comes back after the lease.
    await first.worker.kill();
    a.abort();
    const b = new AbortController();
    const second = stack.startWorker(new InlineRunner(builtins, 2), 2, b.signal);
    try {
      const done = await finalJob(job.jobId);
      expect(done.status).toBe('completed');
      expect(done.nodes.get('slow')).toMatchObject({ status: 'succeeded', retried: 1 });
      const [task] = await engine.tasks.listTasks(job.jobId, 'slow');
      expect(task).toMatchObject({ status: 'succeeded', attempts: 2, result: 'done' });
    } finally {
      b.abort();
      await second.worker.done;
    }
  });

  it('SIGTERM drains: running tasks finish and report before the worker stops', async () => {
    const { engine } = stack;
    const c = new AbortController();
    const w = stack.startWorker(new InlineRunner(builtins, 2), 2, c.signal);
    const job = await engine.coordinator.submit({
      name: 'drain',
      nodes: [{ nodeName: 'n', algorithmName: 'sleep', input: [400, 'ok'] }],
    });
    await waitFor(async () => (w.engine.queue.leaseOf(`${job.jobId}.n`) ? true : undefined));
    c.abort();
    await w.worker.done;
    expect((await finalJob(job.jobId)).status).toBe('completed');
  });

  it('SIGTERM past the drain deadline: the task is released at once, its attempt not counted (Never)', async () => {
    const { engine } = stack;
    const c = new AbortController();
    const w = stack.startWorker(new InlineRunner(builtins, 2), 2, c.signal, 100);
    const job = await engine.coordinator.submit({
      name: 'interrupted-worker',
      nodes: [{ nodeName: 'n', algorithmName: 'sleep', input: [1500, 'ok'], retry: { policy: 'Never' } }],
    });
    await waitFor(async () => (w.engine.queue.leaseOf(`${job.jobId}.n`) ? true : undefined));
    const t0 = Date.now();
    c.abort(); // ECS's SIGTERM: 100 ms of drain, then the running task is interrupted
    await w.worker.done;
    expect(w.engine.queue.heldCount).toBe(0);
    // Released with visibility 0: the next worker gets it at once (the lease is 1 s; a message
    // left to expire would also be reported as crashed, which fails a Never task).
    const d = new AbortController();
    const next = stack.startWorker(new InlineRunner(builtins, 2), 2, d.signal);
    try {
      const done = await finalJob(job.jobId);
      expect(done.status).toBe('completed');
      expect(done.nodes.get('n')).toMatchObject({ status: 'succeeded', retried: 0 });
      const [task] = await engine.tasks.listTasks(job.jobId, 'n');
      expect(task).toMatchObject({ status: 'succeeded', attempts: 1, result: 'ok' });
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      d.abort();
      await next.worker.done;
    }
  });
});

describe('SQS priority queues and caps', () => {
  it('a priority-5 task is claimed before queued priority-1 tasks', async () => {
    const { engine } = stack;
    const low = await engine.coordinator.submit({
      name: 'prio-low',
      priority: 1,
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['#[1...4]'] }],
    });
    const high = await engine.coordinator.submit({
      name: 'prio-high',
      priority: 5,
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['x'] }],
    });
    const mine = new Set([low.jobId, high.jobId]);
    const [first] = await engine.queue.claim(1, (t) => (mine.has(t.jobId) ? 'take' : 'skip'), Date.now());
    expect(first?.jobId).toBe(high.jobId);
    if (first) await engine.queue.settle(first);
    await engine.coordinator.stop(low.jobId);
    await engine.coordinator.stop(high.jobId);
  });

  it('aging moves a long-waiting message up to its effective priority', async () => {
    const { SqsTaskQueue } = await import('../../../shared/adapters/aws/sqs-task-queue.ts');
    const { engine } = stack;
    const aging = new SqsTaskQueue({
      sqs: engine.sqs,
      urls: engine.config.taskQueueUrls,
      slots: engine.state.slots,
      leases: engine.tasks,
    });
    const queuedAt = Date.now() - 2500; // 2 levels of waiting
    await aging.enqueue([
      { taskId: 'aged.x', jobId: 'aged', nodeName: 'x', algorithmName: 'echo', priority: 1, queuedAt },
    ]);
    expect(await aging.age(Date.now(), 1000)).toBeGreaterThanOrEqual(1);
    const r = await engine.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: engine.config.taskQueueUrls[3], MaxNumberOfMessages: 10 }),
    );
    const bodies = (r.Messages ?? []).map(
      (m) => JSON.parse(m.Body ?? '{}') as { taskId: string; level: number },
    );
    expect(bodies.find((b) => b.taskId === 'aged.x')).toMatchObject({ level: 3 });
  });

  it('maxWorkers is a fleet-wide semaphore: a slot is never handed out over the cap', async () => {
    const { slots } = stack.engine.state;
    const got = await Promise.all(Array.from({ length: 6 }, () => slots.acquire('capped-alg', 2)));
    expect(got.filter(Boolean)).toHaveLength(2);
    await slots.release('capped-alg');
    expect(await slots.acquire('capped-alg', 2)).toBe(true);
    expect((await slots.inUse()).get('capped-alg')).toBe(2);
  });
});

describe('fan-in counters', () => {
  it('a 300-item batch completes with each item counted once and few job-record writes', async () => {
    const { engine } = stack;
    const c = new AbortController();
    const w = stack.startWorker(new InlineRunner(builtins, 16), 16, c.signal);
    try {
      const job = await engine.coordinator.submit({
        name: 'fan-in',
        nodes: [
          { nodeName: 'fan', algorithmName: 'echo', input: ['#[1...300]'] },
          { nodeName: 'sum', algorithmName: 'echo', input: ['@fan'] },
        ],
      });
      const done = await finalJob(job.jobId);
      expect(done.status).toBe('completed');
      expect(done.nodes.get('fan')).toMatchObject({ succeeded: 300, failed: 0, total: 300 });
      const t = (await engine.state.tallies.tallies(job.jobId, ['fan'])).get('fan');
      expect(t).toMatchObject({ created: 300, succeeded: 300 });
      // The job record is written per node event, not per item (per item would be 300+ versions).
      // Items that finish before the expansion seals the node's total each write once: their
      // number grows with the machine's load (6 versions on a quiet one, 46 seen under load), so the
      // bound is a third of the items rather than a count of a quiet run.
      expect(done.version).toBeLessThan(100);
      const results = (await engine.jobs.getResults(job.jobId)) as { result: unknown[][] }[];
      expect(results[0]?.result[0]).toHaveLength(300);
    } finally {
      c.abort();
      await w.worker.done;
    }
  });
});

describe('webhooks on AWS (delivery records in DynamoDB)', () => {
  it('progress and result webhooks are sent, recorded and listed by the API', async () => {
    const { createServer } = await import('node:http');
    const got: { path: string; body: Record<string, unknown> }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => {
        text += d.toString();
      });
      req.on('end', () => {
        got.push({ path: req.url ?? '', body: JSON.parse(text) as Record<string, unknown> });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const c = new AbortController();
    const w = stack.startWorker(new InlineRunner(builtins, 2), 2, c.signal);
    try {
      const job = await stack.engine.coordinator.submit({
        name: 'hooks',
        nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [7] }],
        webhooks: {
          progress: `http://127.0.0.1:${port}/progress`,
          result: `http://127.0.0.1:${port}/result`,
        },
      });
      expect((await finalJob(job.jobId)).status).toBe('completed');
      const result = await waitFor(async () => got.find((g) => g.path === '/result'));
      expect(result.body).toMatchObject({ jobId: job.jobId, status: 'completed' });
      expect(got.some((g) => g.path === '/progress')).toBe(true);
      const listed = await stack.handlers.api(proxyEvent('GET', `/api/v1/webhooks/results/${job.jobId}`));
      expect(listed.statusCode).toBe(200);
      expect(JSON.parse(listed.body)).toMatchObject([{ kind: 'result', status: 'delivered', attempts: 1 }]);
    } finally {
      c.abort();
      await w.worker.done;
      server.close();
    }
  });
});
