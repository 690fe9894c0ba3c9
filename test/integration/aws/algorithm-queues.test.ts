// An image algorithm's tasks on AWS go to its own queue and run only in its own workers: stored
// through the api function (as built in Lambda: the queue is created, the task definition names
// it, RegisterTaskDefinition goes to an ECS stand-in), a pipeline mixing it with a builtin runs on
// the emulators; the generic worker never gets its task, a worker configured as the algorithm's
// ECS task would be (its task queues = the algorithm's queue, images ignored: the container is the
// image) runs it. ECS itself starting that task is what this machine cannot do.
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { algorithmQueueName } from '../../../shared/adapters/aws/algorithm-queues.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { isJobFinal } from '../../../shared/engine/transitions.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { awsConfigFromEnv } from '../../../shared/runtime/aws/aws-config.ts';
import { dispatchTick } from '../../../shared/runtime/aws/dispatch-tick.ts';
import { createApiHandler } from '../../../shared/runtime/aws/handlers/api.ts';
import {
  algorithmImagesFromEnv,
  engineFromEnv,
} from '../../../shared/runtime/aws/handlers/engine-from-env.ts';
import { startWorker } from '../../../shared/runtime/aws/worker.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { proxyEvent } from '../../helpers/api-gateway-event.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { type EcsStandIn, startEcsStandIn } from '../../helpers/ecs-stand-in.ts';
import { type TempDir, tempDir } from '../../helpers/workers.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let ecs: EcsStandIn;
let stack: LocalAwsStack;
let dir: TempDir;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  bed = await startAwsTestBed('algq');
  ecs = await startEcsStandIn();
  dir = await tempDir();
  process.env.AWS_ENDPOINT_URL_ECS = ecs.endpoint;
  env = {
    ...process.env,
    ...bed.env,
    SLUICE_ALGORITHM_QUEUE_PREFIX: bed.prefix,
    SLUICE_ALGORITHM_WORKER_IMAGE: 'sluice-worker:test',
    SLUICE_ALGORITHM_TASK_ROLE_ARN: 'arn:aws:iam::123:role/algorithm-task',
    SLUICE_ALGORITHM_EXECUTION_ROLE_ARN: 'arn:aws:iam::123:role/algorithm-exec',
    SLUICE_ECS_CLUSTER: 'sluice',
  };
  // The generic worker runs builtins only: were the image algorithm's task sent to it, it would fail.
  const builtins = allBuiltins();
  stack = await startLocalAwsStack({
    env,
    builtins,
    runner: new InlineRunner(builtins, 2),
    slots: 2,
    s3PollMs: 0,
    onError: () => {},
  });
}, 120_000);

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_ECS;
  await stack?.close();
  await ecs?.close();
  await bed?.close();
  await dir?.remove();
});

it("routes an image algorithm's tasks to its own queue, read only by its own workers", async () => {
  const codePath = await dir.code('shout', {
    'main.py': 'def start(args):\n    return str(args["input"][0]).upper()\n',
  });
  const api = createApiHandler(engineFromEnv(env));
  const stored = await api(
    proxyEvent('POST', '/api/v1/store/algorithms', {
      name: 'shout',
      env: 'python',
      entryPoint: 'main.py',
      codePath,
      image: 'acme/shout:1',
      mem: '512Mi',
    }),
  );
  expect(stored.statusCode).toBe(201);
  const queueName = algorithmQueueName(bed.prefix, 'shout');
  const { QueueUrl: queueUrl } = await stack.engine.sqs.send(
    new GetQueueUrlCommand({ QueueName: queueName }),
  );
  expect(queueUrl).toBeDefined();
  const [registered] = ecs.calls('RegisterTaskDefinition');
  const main = (registered!.containerDefinitions as { environment: { name: string; value: string }[] }[])[1]!;
  const urls = JSON.parse(main.environment.find((e) => e.name === 'SLUICE_TASK_QUEUE_URLS')!.value);
  expect(new Set(Object.values(urls))).toEqual(new Set([queueUrl]));

  const { jobId } = await stack.engine.service.execRaw({
    name: 'mixed',
    nodes: [
      { nodeName: 'A', algorithmName: 'echo', input: ['hello'] },
      { nodeName: 'B', algorithmName: 'shout', input: ['@A'] },
    ],
  });
  const depth = async () => {
    const r = await stack.engine.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    return Number(r.Attributes?.ApproximateNumberOfMessages ?? 0);
  };
  // A runs on the generic worker; B's task waits in the algorithm's queue, untouched by it.
  for (let i = 0; i < 400 && (await depth()) === 0; i++) await new Promise((r) => setTimeout(r, 50));
  expect(await depth()).toBeGreaterThanOrEqual(1);
  await new Promise((r) => setTimeout(r, 1500));
  expect(await depth()).toBeGreaterThanOrEqual(1); // nothing took it
  const waiting = await stack.engine.jobs.getJob(jobId);
  expect(waiting?.status).toBe('active');
  expect(waiting?.nodes.get('A')).toMatchObject({ succeeded: 1 });
  expect(waiting?.nodes.get('B')).toMatchObject({ succeeded: 0, failed: 0 });

  // The dispatch tick sizes the algorithm's own fleet on its queue: one task for one waiting task.
  const images = algorithmImagesFromEnv(env)();
  const tick = await dispatchTick(stack.engine, undefined, images);
  expect(tick.algorithmTasks).toEqual({ shout: 1 });
  expect(ecs.calls('RunTask')).toMatchObject([
    { taskDefinition: 'sluice-alg-shout', count: 1, launchType: 'FARGATE' },
  ]);
  expect((await dispatchTick(stack.engine, undefined, images)).algorithmTasks).toBeUndefined(); // running already

  // The algorithm's own task: its worker reads that queue only, and runs the code itself.
  const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 1, images: 'ignore' });
  const stop = new AbortController();
  const config = {
    ...awsConfigFromEnv(env),
    taskQueueUrls: { 1: queueUrl!, 2: queueUrl!, 3: queueUrl!, 4: queueUrl!, 5: queueUrl! },
  };
  const own = startWorker({ config, env }, { runner: pool, slots: 1, pollMs: 50 }, stop.signal);
  try {
    let job = await stack.engine.jobs.getJob(jobId);
    for (let i = 0; i < 600 && !(job && isJobFinal(job)); i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = await stack.engine.jobs.getJob(jobId);
    }
    expect(job?.status).toBe('completed');
    expect(job?.nodes.get('B')).toMatchObject({ succeeded: 1, failed: 0 });
    const results = (await stack.engine.jobs.getResults(jobId)) as { nodeName: string; result: unknown }[];
    expect(results.find((r) => r.nodeName === 'B')?.result).toBe("['HELLO']");
  } finally {
    stop.abort();
    await own.done;
    await pool.close();
  }
}, 120_000);
