// Every function and the worker, each on its own recorded SDK clients (as each runs under its own
// role in AWS), drive a run through the emulators: the API stores and submits, expand expands,
// dispatch ages a waiting task up a priority level and sweeps, the worker claims and runs, status
// applies outcomes and sends the result webhook, cron fires, s3-trigger starts a run, a job is
// stopped. Then every recorded (action, resource) is checked against the synthesized role policy.
// The emulators check no IAM; this test is what does. The api function's EventBridge Scheduler
// calls go to the Scheduler stand-in (test/helpers/scheduler-server.ts) and are checked against the
// group's schedule ARNs and the scheduler role it passes. An algorithm with an image is stored
// (its queue created, its task definition registered with the ECS stand-in), the tick starts its
// task (RunTask) and a worker built from that task definition's environment runs it under the
// algorithm tasks' own role. The worker launcher's ECS calls are read from its Command classes.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTION_SPECS } from '../../../infra/function-specs.ts';
import { REPO_ROOT } from '../../../infra/stacks/workers-stack.ts';
import {
  algorithmImagesOptionsFromEnv,
  EcsAlgorithmImages,
} from '../../../shared/adapters/aws/algorithm-images.ts';
import { algorithmQueueUrl } from '../../../shared/adapters/aws/algorithm-queues.ts';
import { createDocumentClient, createSqsClient } from '../../../shared/adapters/aws/clients.ts';
import { AWS_ENV } from '../../../shared/adapters/aws/config.ts';
import { createS3Client } from '../../../shared/adapters/aws/s3-client.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { INLINE_VALUE_LIMIT } from '../../../shared/ports/blob-store.ts';
import { isJobFinal } from '../../../shared/ports/job-state.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { AwsEngine, awsConfigFromEnv } from '../../../shared/runtime/aws/aws-engine.ts';
import { createApiHandler } from '../../../shared/runtime/aws/handlers/api.ts';
import { createCronHandler } from '../../../shared/runtime/aws/handlers/cron.ts';
import { createDispatchHandler } from '../../../shared/runtime/aws/handlers/dispatch.ts';
import {
  algorithmPreparer,
  schedulerCronFromEnv,
} from '../../../shared/runtime/aws/handlers/engine-from-env.ts';
import { createExpandHandler } from '../../../shared/runtime/aws/handlers/expand.ts';
import { createS3TriggerHandler } from '../../../shared/runtime/aws/handlers/s3-trigger.ts';
import { createStatusHandler } from '../../../shared/runtime/aws/handlers/status.ts';
import { type RunningWorker, startWorker } from '../../../shared/runtime/aws/worker.ts';
import { SqsPoller, s3PutEvent } from '../../../shared/runtime/aws-emulated/glue.ts';
import {
  type AwsCall,
  commandActions,
  DATA_ACTIONS,
  distinctCalls,
  grantedPairs,
  recordCalls,
  statementsAllow,
  statementsAllowArn,
  writtenKeys,
} from '../../helpers/aws-calls.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { type Synthesized, synthSluice } from '../../helpers/cdk.ts';
import { type Json, resourcesOfType, roleStatements } from '../../helpers/cfn.ts';
import { type EcsStandIn, startEcsStandIn } from '../../helpers/ecs-stand-in.ts';
import { testBuiltins } from '../../helpers/engine.ts';
import { type SchedulerStandIn, startSchedulerStandIn } from '../../helpers/scheduler-server.ts';

/** The synthesized app's names (defaults): the cron group and the role its schedules run as. */
const CRON_GROUP = 'sluice-cron';
const CRON_ROLE_ARN = 'arn:aws:iam::000000000000:role/sluice-cron-scheduler-us-east-1';
/** The roles of algorithm tasks (their names are CDK's; the check maps them to logical ids). */
const ALG_TASK_ROLE_ARN = 'arn:aws:iam::000000000000:role/sluice-workers-AlgorithmTasksTaskRole';
const ALG_EXEC_ROLE_ARN = 'arn:aws:iam::000000000000:role/sluice-workers-AlgorithmTasksExecutionRole';
/** An algorithm with an image: its queue is `<prefix>-alg-iam-img`, its family `sluice-alg-iam-img`. */
const IMAGE_ALGORITHM = 'iam-img';

const builtins = allBuiltins();
for (const b of testBuiltins) builtins.set(b.name, b);

type Role = 'api' | 'expand' | 'status' | 'dispatch' | 'cron' | 's3-trigger' | 'worker' | 'algorithm';
const ROLES: Role[] = ['api', 'expand', 'status', 'dispatch', 'cron', 's3-trigger', 'worker', 'algorithm'];
/** The queues of algorithms with an image are one resource: the `<prefix>-alg-*` pattern. */
const ALGORITHM_QUEUES = 'AlgorithmQueues';
/** Per role, the `action logicalId` pairs it was seen making and those its policy grants. */
const observed = new Map<Role, { did: Set<string>; granted: Set<string>; statements: Json[] }>();

/** The five priority queues are one resource here: which level a task lands on is data. */
const grouped = (pair: string) => pair.replace(/ TaskQueueP\d$/, ' TaskQueues');

/**
 * Grants the run above cannot exercise, each with the code path that needs it (a regular
 * expression over `role action resource`). Any other grant, the run saw the role use.
 */
const UNSEEN_BUT_NEEDED: Record<string, string> = {
  '(expand|status|s3-trigger) sqs:(ReceiveMessage|DeleteMessage|ChangeMessageVisibility|GetQueueAttributes|GetQueueUrl) (EventQueue|StatusQueue|TriggerQueue)':
    "the SQS event source mapping polls the function's queue with its role (CDK's SqsEventSource grants these)",
  '(cron|dispatch) sqs:(SendMessage|GetQueueAttributes|GetQueueUrl) FailedInvocations':
    'Lambda sends a failed asynchronous invocation to the on-failure destination with the function role (CDK SqsDestination)',
  '\\S+ dynamodb:BatchGetItem TasksTable':
    'creating tasks skips those that exist (tasks.ts existing()): an expansion retried after a crash',
  '(expand|status|dispatch|cron|s3-trigger|worker|algorithm) sqs:SendMessage EventQueue':
    'a batch larger than SLUICE_EXPAND_MAX_ITEMS continues through the event queue from whoever expanded its first part; the tick continues stuck jobs there',
  '(cron|s3-trigger|dispatch) s3:PutObject BlobBucket':
    'a flowInput or task input over INLINE_VALUE_LIMIT (cron, s3-trigger start jobs), the results of a job the tick ends (ttl)',
  'expand dynamodb:(PutItem|UpdateItem|DeleteItem) RegistryTable':
    'a job whose every node is skipped (batches over empty lists) ends during expansion: expand records its result webhook',
  '(worker|algorithm) dynamodb:(UpdateItem|BatchWriteItem) TasksTable':
    "the code API: an algorithm's start of a pipeline creates and expands the job in the worker",
  'dispatch sqs:SendMessage StatusQueue':
    'a task whose lease expired (its worker was lost) is reported crashed by the tick',
  '(api|cron|s3-trigger|dispatch|worker|algorithm) sqs:SendMessage AlgorithmQueues':
    "a task of an algorithm with an image goes to its own queue from whoever enqueues it: a dynamic job's task (api), the first node of a run cron or s3-trigger starts, a lost message re-sent by the sweep (dispatch), a code API child (worker, algorithm); the algorithm's worker also puts back, as fresh copies, tasks it gives back (pause, SIGTERM)",
};

const calls: AwsCall[] = [];
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let synth: Synthesized;
let hooks: Server;
let hookUrl: string;
let schedules: SchedulerStandIn;
let ecs: EcsStandIn;
const hookBodies: unknown[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  bed = await startAwsTestBed('iam', { visibilitySeconds: 2 });
  // Firing is cron-schedules-aws.test.ts's; here only the api function's schedule calls count.
  schedules = await startSchedulerStandIn({ groups: [CRON_GROUP], deliver: async () => {} });
  ecs = await startEcsStandIn();
  hooks = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      hookBodies.push(JSON.parse(body || 'null'));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
}, 60_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => {});
  hooks?.close();
  await schedules?.close();
  await ecs?.close();
  synth?.cleanup();
  await bed?.close();
});

function engineOf(
  role: Role,
  opts: { deferExpansion?: boolean; agingMs?: number; cronSchedules?: boolean; images?: boolean } = {},
) {
  const env = {
    ...process.env,
    ...bed.env,
    [AWS_ENV.cronScheduleGroup]: CRON_GROUP,
    [AWS_ENV.cronTargetArn]: 'arn:aws:lambda:us-east-1:000000000000:function:sluice-cron',
    [AWS_ENV.cronSchedulerRoleArn]: CRON_ROLE_ARN,
    [AWS_ENV.cronDeadLetterArn]: 'arn:aws:sqs:us-east-1:000000000000:sluice-cron-dead-letters',
    // Algorithms with an image switched on, as the stacks do (backend-env.ts).
    [AWS_ENV.algorithmWorkerImage]: '000000000000.dkr.ecr.us-east-1.amazonaws.com/assets:worker',
    [AWS_ENV.algorithmTaskRoleArn]: ALG_TASK_ROLE_ARN,
    [AWS_ENV.algorithmExecutionRoleArn]: ALG_EXEC_ROLE_ARN,
    [AWS_ENV.algorithmLogGroup]: 'sluice-algorithm-logs',
    [AWS_ENV.algorithmFamilyPrefix]: 'sluice',
    [AWS_ENV.algorithmQueuePrefix]: bed.prefix,
    [AWS_ENV.ecsCluster]: 'sluice',
  };
  const clients = { dynamo: createDocumentClient(env), sqs: createSqsClient(env), s3: createS3Client(env) };
  recordCalls(role, calls, clients.dynamo, clients.sqs, clients.s3);
  const config = awsConfigFromEnv(env);
  config.agingMs = opts.agingMs ?? config.agingMs;
  let cron: ReturnType<typeof schedulerCronFromEnv> | undefined;
  // Where the stacks set SLUICE_ALGORITHM_WORKER_IMAGE: the function's ECS client (the stand-in).
  let images: EcsAlgorithmImages | undefined;
  if (opts.images) {
    const client = new ECSClient({ region: 'us-east-1', endpoint: ecs.endpoint });
    recordCalls(role, calls, client);
    closers.push(async () => client.destroy());
    images = new EcsAlgorithmImages(client, algorithmImagesOptionsFromEnv(env)!);
  }
  const engine: AwsEngine = new AwsEngine({
    config,
    env,
    clients,
    builtins,
    ...(images && role === 'api' ? { prepareAlgorithm: algorithmPreparer(images, () => engine) } : {}),
    ...(opts.deferExpansion ? { deferExpansion: true } : {}),
    cron: { refresh: async (changed) => cron?.refresh(changed), list: async () => cron?.list() ?? [] },
  });
  if (opts.cronSchedules) {
    // The api function's cron control, as engineFromEnv builds it, on a recorded Scheduler client.
    const scheduler = new SchedulerClient({ region: 'us-east-1', endpoint: schedules.endpoint });
    recordCalls(role, calls, scheduler);
    closers.push(async () => scheduler.destroy());
    cron = schedulerCronFromEnv(env, engine.registry, scheduler);
  }
  return { env, config, clients, engine, images };
}

const proxy = (method: string, p: string, body?: unknown): APIGatewayProxyEvent =>
  ({
    httpMethod: method,
    path: p,
    resource: '/{proxy+}',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: { proxy: p.slice(1) },
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  }) as APIGatewayProxyEvent;

async function waitFor<T>(f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('IAM: the calls each function and the worker make are allowed by its role', () => {
  it('drives a run through every role, then checks each call against the synthesized policies', async () => {
    const api = engineOf('api', { deferExpansion: true, cronSchedules: true, images: true });
    const expand = engineOf('expand');
    const status = engineOf('status');
    // Aging on, and quick: a task waiting 1 ms at priority 1 moves up at the next tick.
    const dispatch = engineOf('dispatch', { agingMs: 1, images: true });
    const cron = engineOf('cron');
    const s3t = engineOf('s3-trigger');
    const handlers = {
      api: createApiHandler(() => api.engine),
      expand: createExpandHandler(() => expand.engine),
      status: createStatusHandler(() => status.engine),
      dispatch: createDispatchHandler(
        () => dispatch.engine,
        undefined,
        () => dispatch.images,
      ),
      cron: createCronHandler(() => cron.engine),
      s3Trigger: createS3TriggerHandler(() => s3t.engine),
    };
    // The SQS event source mappings receive and delete with the consuming function's role.
    const eventPoller = new SqsPoller(
      expand.clients.sqs,
      expand.config.eventQueueUrl as string,
      handlers.expand,
      {
        waitSeconds: 1,
      },
    ).start();
    const statusPoller = new SqsPoller(status.clients.sqs, status.config.statusQueueUrl, handlers.status, {
      waitSeconds: 1,
    }).start();
    closers.push(
      () => eventPoller.stop(),
      () => statusPoller.stop(),
    );
    const call = async (method: string, p: string, body?: unknown) => {
      const r = await handlers.api(proxy(method, `/api/v1${p}`, body));
      return { status: r.statusCode, body: JSON.parse(r.body) as Json };
    };
    const finished = (jobId: string) =>
      waitFor(async () => {
        const r = await call('GET', `/exec/status/${jobId}`);
        return r.status === 200 && isJobFinal(r.body) ? r.body : undefined;
      });

    // Store a pipeline (the cron firing runs it later) and submit a low-priority batch.
    const stored = {
      name: 'iam-stored',
      nodes: [{ nodeName: 'a', algorithmName: 'echo', input: ['stored'] }],
      webhooks: { progress: hookUrl },
      triggers: { cron: { pattern: '0 3 * * *', enabled: true } },
    };
    expect((await call('POST', '/store/pipelines', stored)).status).toBe(201);
    const low = await call('POST', '/exec/raw', {
      name: 'iam-low',
      priority: 1,
      webhooks: { result: hookUrl, progress: hookUrl },
      nodes: [
        { nodeName: 'items', algorithmName: 'echo', input: ['#[1...3]'] },
        { nodeName: 'all', algorithmName: 'echo', input: ['@items'] },
        // Over INLINE_VALUE_LIMIT: its input, outcome and result travel through the blob bucket.
        { nodeName: 'big', algorithmName: 'echo', input: ['x'.repeat(INLINE_VALUE_LIMIT + 1)] },
      ],
    });
    expect(low.status).toBe(201);
    // No worker yet: wait for the expand function to queue the batch at priority 1, then tick.
    const probe = new SQSClient({ region: 'us-east-1' });
    closers.push(async () => probe.destroy());
    const p1 = dispatch.config.taskQueueUrls[1] as string;
    await waitFor(async () => {
      const a = await probe.send(
        new GetQueueAttributesCommand({ QueueUrl: p1, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      return Number(a.Attributes?.ApproximateNumberOfMessages) >= 3 ? true : undefined;
    });
    const tick = await handlers.dispatch();
    expect(tick.promoted).toBeGreaterThan(0);

    // The worker runs what is queued; status applies outcomes, the result webhook goes out.
    const controller = new AbortController();
    const worker: RunningWorker = startWorker(
      {
        // A heartbeat every 200 ms: the lease extension (ChangeMessageVisibility) is part of the run.
        queue: { heartbeatMs: 200 },
        config: awsConfigFromEnv({ ...process.env, ...bed.env }),
        env: { ...process.env, ...bed.env },
        clients: (() => {
          const env = { ...process.env, ...bed.env };
          const c = { dynamo: createDocumentClient(env), sqs: createSqsClient(env), s3: createS3Client(env) };
          recordCalls('worker', calls, c.dynamo, c.sqs, c.s3);
          return c;
        })(),
        builtins,
      },
      { runner: new InlineRunner(builtins, 4), slots: 4, pollMs: 50 },
      controller.signal,
    );
    let workerStopped = false;
    const stopWorker = async () => {
      if (workerStopped) return;
      workerStopped = true;
      controller.abort();
      await worker.done;
    };
    closers.push(stopWorker);
    expect((await finished(low.body.jobId)).status).toBe('completed');
    // A debug session (`sluice debug`): the worker hands the debug node's task over through the
    // registry table (DEBUG and DEBUG#<algorithm> items); the api function leases and reports it.
    const session = await call('POST', '/debug/attach', { algorithmName: 'echo' });
    expect(session.status).toBe(201);
    const sessionId = session.body.sessionId as string;
    const debugged = await call('POST', '/exec/raw', {
      name: 'iam-debug',
      nodes: [{ nodeName: 'd', kind: 'debug', algorithmName: 'echo', input: [1] }],
    });
    const leased = await call('POST', '/debug/lease', { sessionId, waitMs: 20_000 });
    const handed = leased.body.task as { info: { taskId: string } };
    const reported = await call('POST', '/debug/report', {
      sessionId,
      taskId: handed.info.taskId,
      result: 2,
    });
    expect(reported.body.accepted).toBe(true);
    expect((await finished(debugged.body.jobId)).status).toBe('completed');
    expect((await call('POST', '/debug/detach', { sessionId })).status).toBe(200);
    // A dynamic job (sluice make): the api function creates and enqueues the tasks a client adds.
    const dyn = await call('POST', '/exec/dynamic', {
      name: 'iam-dynamic',
      nodes: [{ nodeName: 'N', algorithmName: 'echo', input: [] }],
    });
    expect(dyn.status).toBe(201);
    const added = await call('POST', `/exec/dynamic/${dyn.body.jobId}/tasks`, {
      nodeName: 'N',
      tasks: [{ key: 'a', input: [1] }],
    });
    expect(added.status).toBe(200);
    const ids = (added.body.tasks as { taskId: string }[]).map((t) => t.taskId);
    await call('POST', `/exec/dynamic/${dyn.body.jobId}/wait`, { taskIds: ids, timeoutMs: 20_000 });
    expect((await call('POST', `/exec/dynamic/${dyn.body.jobId}/close`, {})).status).toBe(200);
    expect((await finished(dyn.body.jobId)).status).toBe('completed');
    const results = await call('GET', `/exec/results/${low.body.jobId}`);
    expect(results.status).toBe(200);
    await waitFor(async () => (hookBodies.length > 0 ? true : undefined));

    // cron fires the stored pipeline; s3-trigger starts a run from a descriptor.
    const fired = await handlers.cron({ sluiceCron: { pipelineName: 'iam-stored' } });
    expect(fired.jobId).toBeTruthy();
    expect((await finished(fired.jobId as string)).status).toBe('completed');
    const trigger = s3t.config.triggerBucket as string;
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    const uploader = createS3Client({ ...process.env, ...bed.env });
    closers.push(async () => uploader.destroy());
    await uploader.send(
      new PutObjectCommand({
        Bucket: trigger,
        Key: 'pipelines/iam.json',
        Body: JSON.stringify({
          name: 'iam-s3',
          webhooks: { progress: hookUrl },
          nodes: [{ nodeName: 'a', algorithmName: 'echo', input: [1] }],
        }),
      }),
    );
    const [started] = await handlers.s3Trigger(s3PutEvent(trigger, 'pipelines/iam.json'));
    expect((await finished(started?.jobId as string)).status).toBe('completed');

    // An algorithm with an image: storing it creates its queue and registers its task definition;
    // a run queues its tasks there (expand the first, status the last), the tick starts its task
    // (RunTask), and a worker with that task definition's environment runs them under its own role.
    const image = { name: IMAGE_ALGORITHM, env: 'python', entryPoint: 'main.py', image: 'acme/img:1' };
    expect((await call('POST', '/store/algorithms', { ...image, maxWorkers: 2 })).status).toBe(201);
    const imaged = await call('POST', '/exec/raw', {
      name: 'iam-image',
      nodes: [
        // Over INLINE_VALUE_LIMIT: the algorithm's worker reads its input from and puts its outcome to the blob bucket.
        { nodeName: 'first', algorithmName: IMAGE_ALGORITHM, input: ['y'.repeat(INLINE_VALUE_LIMIT + 1)] },
        { nodeName: 'mid', algorithmName: 'echo', input: ['@first'] },
        { nodeName: 'last', algorithmName: IMAGE_ALGORITHM, input: ['@mid'] },
      ],
    });
    expect(imaged.status).toBe(201);
    const ownQueue = algorithmQueueUrl(dispatch.config.statusQueueUrl, bed.prefix, IMAGE_ALGORITHM);
    await waitFor(async () => {
      const a = await probe.send(
        new GetQueueAttributesCommand({
          QueueUrl: ownQueue,
          AttributeNames: ['ApproximateNumberOfMessages'],
        }),
      );
      return Number(a.Attributes?.ApproximateNumberOfMessages) >= 1 ? true : undefined;
    });
    expect((await handlers.dispatch()).algorithmTasks).toEqual({ [IMAGE_ALGORITHM]: 1 });
    const [registered] = ecs.calls('RegisterTaskDefinition');
    const containers = registered!.containerDefinitions as {
      environment?: { name: string; value: string }[];
    }[];
    const taskEnv = {
      ...process.env, // the emulators' endpoints
      ...Object.fromEntries((containers[1]!.environment ?? []).map((e) => [e.name, e.value])),
    };
    const algClients = {
      dynamo: createDocumentClient(taskEnv),
      sqs: createSqsClient(taskEnv),
      s3: createS3Client(taskEnv),
    };
    recordCalls('algorithm', calls, algClients.dynamo, algClients.sqs, algClients.s3);
    // The image's code stands in as a built-in of the task's runner: echo, slower than a heartbeat
    // (the lease extension on its own queue is part of the run).
    const echo = builtins.get('echo')!;
    const imageRunner = new Map(builtins);
    imageRunner.set(IMAGE_ALGORITHM, {
      ...echo,
      name: IMAGE_ALGORITHM,
      run: async (input, ctx) => {
        await new Promise((r) => setTimeout(r, 800));
        return echo.run(input, ctx);
      },
    });
    const algStop = new AbortController();
    const algWorker = startWorker(
      {
        queue: { heartbeatMs: 200 },
        config: awsConfigFromEnv(taskEnv),
        env: taskEnv,
        clients: algClients,
        builtins,
      },
      { runner: new InlineRunner(imageRunner, 1), slots: 1, pollMs: 50 },
      algStop.signal,
    );
    closers.push(async () => {
      algStop.abort();
      await algWorker.done;
    });
    expect((await finished(imaged.body.jobId)).status).toBe('completed');
    algStop.abort();
    await algWorker.done;

    // A stopped job, then a last tick (ttl, recovery sweep, webhook drain) with nothing queued.
    const slow = await call('POST', '/exec/raw', {
      name: 'iam-stop',
      nodes: [{ nodeName: 's', algorithmName: 'sleep', input: [5000, 'late'] }],
    });
    await waitFor(async () => (worker.engine.queue.leaseOf(`${slow.body.jobId}.s`) ? true : undefined));
    expect((await call('POST', '/exec/stop', { jobId: slow.body.jobId })).status).toBe(200);
    expect((await finished(slow.body.jobId)).status).toBe('stopped');
    // A job past its ttl: the tick stops it (job, node and task writes, a progress webhook).
    const late = await call('POST', '/exec/raw', {
      name: 'iam-ttl',
      options: { ttl: 1 },
      webhooks: { progress: hookUrl },
      nodes: [{ nodeName: 's', algorithmName: 'sleep', input: [30_000, 'late'] }],
    });
    await waitFor(async () => (worker.engine.queue.leaseOf(`${late.body.jobId}.s`) ? true : undefined));
    await new Promise((r) => setTimeout(r, 1200));
    await handlers.dispatch();
    expect((await finished(late.body.jobId)).status).toBe('stopped');
    await handlers.dispatch();
    await call('GET', '/exec/jobs');
    await call('DELETE', '/store/pipelines/iam-stored');
    // The worker's drain (its activity report is removed) is part of what it does.
    await stopWorker();

    // ------------------------------------------------------------- against the policies
    synth = synthSluice({}, { bundle: false });
    const scheduler = Template.fromStack(synth.scheduler);
    const workers = Template.fromStack(synth.workers);
    const fnRole = (name: string) => {
      const id = `${name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Function`;
      const [fn] = Object.entries(resourcesOfType(scheduler, 'AWS::Lambda::Function')).filter(([k]) =>
        new RegExp(`^${id}[0-9A-F]{8}$`).test(k),
      );
      return roleStatements(scheduler, fn![1].Properties.Role['Fn::GetAtt'][0]);
    };
    const workerRoleId = Object.keys(resourcesOfType(workers, 'AWS::IAM::Role')).find((k) =>
      k.startsWith('WorkerTaskRole'),
    ) as string;
    const algorithmRoleId = Object.keys(resourcesOfType(workers, 'AWS::IAM::Role')).find((k) =>
      k.startsWith('AlgorithmTasksTaskRole'),
    ) as string;
    const statementsOf = (role: string) =>
      role === 'worker'
        ? roleStatements(workers, workerRoleId)
        : role === 'algorithm'
          ? roleStatements(workers, algorithmRoleId)
          : fnRole(role);
    /** An algorithm's own queue (URL or name) as the deployment's ARN (prefix `sluice`), else undefined. */
    const ownPrefix = `${bed.prefix}-alg-`;
    const algorithmQueueArn = (resource: string) => {
      const name = resource.split('/').pop() as string;
      return name.startsWith(ownPrefix)
        ? `arn:aws:sqs:us-east-1:000000000000:sluice-alg-${name.slice(ownPrefix.length)}`
        : undefined;
    };

    // Emulator resource names → the logical ids of the stacks' resources.
    const env = bed.env;
    const urls = JSON.parse(env.SLUICE_TASK_QUEUE_URLS as string) as Record<string, string>;
    const logicalIds = new Map<string, string>([
      [env.SLUICE_JOBS_TABLE as string, 'JobsTable'],
      [env.SLUICE_TASKS_TABLE as string, 'TasksTable'],
      [env.SLUICE_REGISTRY_TABLE as string, 'RegistryTable'],
      [env.SLUICE_STATUS_QUEUE_URL as string, 'StatusQueue'],
      [env.SLUICE_EVENT_QUEUE_URL as string, 'EventQueue'],
      [env.SLUICE_BLOB_BUCKET as string, 'BlobBucket'],
      [env.SLUICE_TRIGGER_BUCKET as string, 'TriggerBucket'],
      [CRON_ROLE_ARN, 'CronSchedulerRole'],
      [ALG_TASK_ROLE_ARN, 'AlgorithmTasksTaskRole'],
      [ALG_EXEC_ROLE_ARN, 'AlgorithmTasksExecutionRole'],
      // Not called by Sluice code: the event source mapping reads it, Lambda writes the other.
      ['(trigger queue)', 'TriggerQueue'],
      ['(failed invocations)', 'FailedInvocations'],
      ...Object.entries(urls).map(([p, url]) => [url, `TaskQueueP${p}`] as [string, string]),
    ]);
    const denied: string[] = [];
    const seen = distinctCalls(calls);
    const keys = writtenKeys(calls);
    for (const role of ROLES) {
      const set = seen.get(role);
      expect(set?.size, `${role} made no recorded call`).toBeGreaterThan(0);
      const statements = statementsOf(role);
      for (const entry of set ?? []) {
        const [action, resource] = entry.split(' ') as [string, string];
        // Made at run time: checked against the ARN patterns the role grants.
        const ownArn = algorithmQueueArn(resource);
        if (ownArn) {
          if (!statementsAllowArn(statements, action, ownArn)) denied.push(`${role}: ${action} on ${ownArn}`);
          continue;
        }
        if (action.startsWith('ecs:')) {
          const arn = resource === '*' ? '*' : `arn:aws:ecs:us-east-1:000000000000:${resource}:1`;
          if (!statementsAllowArn(statements, action, arn)) denied.push(`${role}: ${action} on ${arn}`);
          continue;
        }
        if (action.startsWith('scheduler:')) {
          // Schedules exist only at run time: checked against the ARN patterns the role grants.
          const arn = resource === '*' ? '*' : `arn:aws:scheduler:us-east-1:000000000000:${resource}`;
          if (!statementsAllowArn(statements, action, arn)) denied.push(`${role}: ${action} on ${arn}`);
          continue;
        }
        const logicalId = logicalIds.get(resource);
        expect(logicalId, `${role}: ${entry} names a resource the stacks do not define`).toBeDefined();
        const written = keys.get(`${role} ${entry}`) ?? [];
        if (!statementsAllow(statements, action, logicalId as string, written))
          denied.push(
            `${role}: ${action} on ${logicalId}${[...written].length ? ` (keys ${[...written].join(', ')})` : ''}`,
          );
      }
    }
    expect(denied).toEqual([]);
    // What each role did, by logical id, for the next test: nothing more may be granted.
    for (const role of ROLES) {
      const did = new Set<string>();
      for (const entry of seen.get(role) ?? []) {
        const [action, resource] = entry.split(' ') as [string, string];
        const id = logicalIds.get(resource) ?? (algorithmQueueArn(resource) ? ALGORITHM_QUEUES : resource);
        did.add(grouped(`${action} ${id}`));
      }
      const statements = statementsOf(role);
      const granted = new Set([...grantedPairs(statements, new Set(logicalIds.values()))].map(grouped));
      for (const st of statements)
        if (st.Effect === 'Allow' && JSON.stringify(st.Resource).includes(':sluice-alg-*'))
          for (const a of [st.Action].flat() as string[])
            if (a.startsWith('sqs:')) granted.add(`${a} ${ALGORITHM_QUEUES}`);
      observed.set(role, { did, statements, granted });
    }
    // The scenario reached what the tick does in a real account: aging receives and deletes.
    expect(seen.get('dispatch')).toContain(`sqs:ReceiveMessage ${urls['1']}`);
    expect(seen.get('dispatch')).toContain(`sqs:DeleteMessage ${urls['1']}`);
    // Storing and deleting the cron pipeline made and removed its schedule through the api role.
    for (const call of [
      `scheduler:CreateSchedule schedule/${CRON_GROUP}/iam-stored`,
      `scheduler:DeleteSchedule schedule/${CRON_GROUP}/iam-stored`,
      'scheduler:ListSchedules *',
      `iam:PassRole ${CRON_ROLE_ARN}`,
    ])
      expect(seen.get('api')).toContain(call);
    expect(schedules.schedules(CRON_GROUP)).toEqual([]);
    // The image algorithm's calls: its queue and task definition (api), its task (dispatch), its
    // queue read by its own worker.
    const ownQueueName = `${bed.prefix}-alg-${IMAGE_ALGORITHM}`;
    for (const call of [
      `sqs:CreateQueue ${ownQueueName}`,
      'ecs:RegisterTaskDefinition *',
      `iam:PassRole ${ALG_TASK_ROLE_ARN}`,
      `iam:PassRole ${ALG_EXEC_ROLE_ARN}`,
    ])
      expect(seen.get('api')).toContain(call);
    expect(seen.get('dispatch')).toContain(`ecs:RunTask task-definition/sluice-alg-${IMAGE_ALGORITHM}`);
    expect(seen.get('dispatch')).toContain(`sqs:GetQueueAttributes ${ownQueue}`);
    expect(seen.get('algorithm')).toContain(`sqs:ReceiveMessage ${ownQueue}`);
    expect(seen.get('algorithm')).toContain(`sqs:DeleteMessage ${ownQueue}`);
    // RunTask passes the roles its task definition names: dispatch may pass both, to ECS tasks.
    for (const id of ['AlgorithmTasksTaskRole', 'AlgorithmTasksExecutionRole'])
      expect(statementsAllow(statementsOf('dispatch'), 'iam:PassRole', id), id).toBe(true);
  }, 300_000);

  it('grants no role a write it does not make, nor any action no role makes on that resource', () => {
    expect(observed.size, 'the run above did not complete').toBe(ROLES.length);
    const anyRoleDid = new Set([...observed.values()].flatMap((o) => [...o.did]));
    const wrote = (role: Role, logicalId: string) =>
      [...(observed.get(role)?.did ?? [])].some((p) => {
        const [action, id] = p.split(' ') as [string, string];
        return id === logicalId && DATA_ACTIONS[action] === true;
      });
    const extra: string[] = [];
    const unused = new Set(Object.keys(UNSEEN_BUT_NEEDED));
    for (const [role, { did, granted }] of observed) {
      for (const pair of granted) {
        if (did.has(pair)) continue;
        const [action, logicalId] = pair.split(' ') as [string, string];
        const justified = Object.keys(UNSEEN_BUT_NEEDED).find((k) =>
          new RegExp(`^${k}$`).test(`${role} ${pair}`),
        );
        if (justified) {
          unused.delete(justified);
          continue;
        }
        // An action some role makes on this resource, granted to a role that writes it too: the
        // shared item-write set (data-grants.ts); anything else is more than the code needs.
        if (anyRoleDid.has(pair) && (DATA_ACTIONS[action] !== true || wrote(role, logicalId))) continue;
        extra.push(`${role}: ${pair}`);
      }
    }
    expect(extra, 'granted but never needed').toEqual([]);
    // Stored pipelines and algorithms, and debug sessions: only the api function may write them.
    for (const [role, { statements }] of observed) {
      for (const pk of ['PIPELINE', 'ALGORITHM', 'DEBUG'])
        expect(statementsAllow(statements, 'dynamodb:PutItem', 'RegistryTable', [pk]), `${role}: ${pk}`).toBe(
          role === 'api',
        );
    }
    expect([...unused], 'UNSEEN_BUT_NEEDED entries that match no grant').toEqual([]);
  });

  it('the Scheduler and ECS calls of the adapters are allowed to the roles that build them', () => {
    const read = (f: string) => readFileSync(path.join(REPO_ROOT, f), 'utf8');
    const schedulerActions = commandActions(read('shared/adapters/aws/scheduler-cron.ts'), 'scheduler');
    const ecsActions = commandActions(read('shared/adapters/aws/ecs-launcher.ts'), 'ecs');
    expect(schedulerActions).toEqual([
      'iam:PassRole',
      'iam:PassRole',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:ListSchedules',
      'scheduler:UpdateSchedule',
    ]);
    expect(ecsActions.length).toBeGreaterThan(1);
    const scaled = synthSluice({ dispatchScalesWorkers: true }, { bundle: false });
    try {
      const scheduler = Template.fromStack(scaled.scheduler);
      const fnStatements = (name: string) => {
        const id = `${name.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Function`;
        const fn = Object.entries(resourcesOfType(scheduler, 'AWS::Lambda::Function')).find(([k]) =>
          new RegExp(`^${id}[0-9A-F]{8}$`).test(k),
        );
        return roleStatements(scheduler, fn![1].Properties.Role['Fn::GetAtt'][0]);
      };
      const grants = (statements: Json[], action: string) =>
        statements.some(
          (st) =>
            st.Effect === 'Allow' &&
            [st.Action].flat().some((a: string) => a === action || a === `${action.split(':')[0]}:*`),
        );
      const missing: string[] = [];
      for (const [name, spec] of Object.entries(FUNCTION_SPECS)) {
        const st = fnStatements(name);
        if (spec.cronSchedules)
          for (const a of schedulerActions) if (!grants(st, a)) missing.push(`${name}: ${a}`);
        if (spec.ecs) for (const a of ecsActions) if (!grants(st, a)) missing.push(`${name}: ${a}`);
      }
      expect(missing).toEqual([]);
    } finally {
      scaled.cleanup();
    }
  }, 120_000);
});
