// Algorithms with an image on AWS, as far as this machine allows: the api function, built from its
// environment as in Lambda, registers the algorithm's task definition when it is stored, and the
// scaler starts its tasks with RunTask — both asserted on the requests the real AWS SDK sends to
// an ECS stand-in on 127.0.0.1 (test/helpers/ecs-stand-in.ts; the state is on the emulators).
// What needs an account is not run: ECS pulling the image, the init container, the worker in it.

import { ECSClient } from '@aws-sdk/client-ecs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EcsAlgorithmImages } from '../../../shared/adapters/aws/algorithm-images.ts';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import { createApiHandler } from '../../../shared/runtime/aws/handlers/api.ts';
import { engineFromEnv } from '../../../shared/runtime/aws/handlers/engine-from-env.ts';
import { proxyEvent } from '../../helpers/api-gateway-event.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { type EcsStandIn, startEcsStandIn } from '../../helpers/ecs-stand-in.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let ecs: EcsStandIn;
let api: ReturnType<typeof createApiHandler>;

const IMAGE_ENV = {
  SLUICE_ALGORITHM_WORKER_IMAGE: '123.dkr.ecr.us-east-1.amazonaws.com/sluice-worker:abc',
  SLUICE_ALGORITHM_TASK_ROLE_ARN: 'arn:aws:iam::123:role/algorithm-task',
  SLUICE_ALGORITHM_EXECUTION_ROLE_ARN: 'arn:aws:iam::123:role/algorithm-exec',
  SLUICE_ALGORITHM_FAMILY_PREFIX: 'sl',
  SLUICE_ECS_CLUSTER: 'sluice',
  SLUICE_WORKER_SUBNETS: 'subnet-a,subnet-b',
  SLUICE_WORKER_SECURITY_GROUP: 'sg-1',
};

beforeAll(async () => {
  bed = await startAwsTestBed('images');
  ecs = await startEcsStandIn();
  process.env.AWS_ENDPOINT_URL_ECS = ecs.endpoint; // as the SDK reads it in Lambda
  api = createApiHandler(engineFromEnv({ ...process.env, ...bed.env, ...IMAGE_ENV }));
}, 120_000);

afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_ECS;
  await ecs?.close();
  await bed?.close();
});

const detect = {
  name: 'detect',
  env: 'python',
  entryPoint: 'main.py',
  image: 'acme/detect:1',
  cpu: 2,
  mem: '4Gi',
  maxWorkers: 12,
};

describe('an algorithm with an image on AWS (ECS stand-in)', () => {
  it('storing it registers its task definition: the image, a Fargate size, the injected worker', async () => {
    const res = await api(proxyEvent('POST', '/api/v1/store/algorithms', detect));
    expect(res.statusCode).toBe(201);
    const [registered] = ecs.calls('RegisterTaskDefinition');
    expect(registered).toMatchObject({
      family: 'sl-alg-detect',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '2048',
      memory: '5120',
      taskRoleArn: IMAGE_ENV.SLUICE_ALGORITHM_TASK_ROLE_ARN,
      executionRoleArn: IMAGE_ENV.SLUICE_ALGORITHM_EXECUTION_ROLE_ARN,
    });
    const containers = registered!.containerDefinitions as Record<string, unknown>[];
    expect(containers.map((c) => [c.name, c.image])).toEqual([
      ['sluice-runtime', IMAGE_ENV.SLUICE_ALGORITHM_WORKER_IMAGE],
      ['algorithm', 'acme/detect:1'],
    ]);
    const env = Object.fromEntries(
      (containers[1]!.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
    );
    // The worker in the algorithm's task gets the deployment's tables and queues, and its algorithm.
    expect(env).toMatchObject({
      SLUICE_ALGORITHM: 'detect',
      SLUICE_WORKER_SLOTS: '1',
      SLUICE_JOBS_TABLE: bed.env.SLUICE_JOBS_TABLE,
      SLUICE_TASK_QUEUE_URLS: bed.env.SLUICE_TASK_QUEUE_URLS,
    });
    const stored = await api(proxyEvent('GET', '/api/v1/store/algorithms/detect'));
    expect(JSON.parse(stored.body)).toMatchObject({ name: 'detect', image: 'acme/detect:1' });

    // An update registers a new revision; an algorithm without an image registers nothing.
    await api(proxyEvent('PUT', '/api/v1/store/algorithms', { ...detect, mem: '8Gi' }));
    await api(
      proxyEvent('POST', '/api/v1/store/algorithms', { name: 'plain', env: 'python', entryPoint: 'm.py' }),
    );
    expect(ecs.calls('RegisterTaskDefinition').map((r) => r.memory)).toEqual(['5120', '9216']);
  });

  it('gpu without a GPU capacity provider is refused with 400, and nothing is stored', async () => {
    const before = ecs.requests.length;
    const res = await api(
      proxyEvent('POST', '/api/v1/store/algorithms', { ...detect, name: 'train', gpu: 1 }),
    );
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.message).toBe(
      "algorithm 'train' asks for gpu 1, but Fargate has no GPUs and this deployment has no GPU capacity provider (deploy with -c gpuCapacityProvider=NAME, or remove gpu)",
    );
    expect(ecs.requests.length).toBe(before);
    expect((await api(proxyEvent('GET', '/api/v1/store/algorithms/train'))).statusCode).toBe(404);
  });

  it('RunTask starts hot workers for the algorithm within its maxWorkers, and none when nothing waits', async () => {
    const client = new ECSClient({ region: 'us-east-1', endpoint: ecs.endpoint });
    const images = new EcsAlgorithmImages(client, {
      prefix: 'sl',
      workerImage: IMAGE_ENV.SLUICE_ALGORITHM_WORKER_IMAGE,
      taskRoleArn: IMAGE_ENV.SLUICE_ALGORITHM_TASK_ROLE_ARN,
      executionRoleArn: IMAGE_ENV.SLUICE_ALGORITHM_EXECUTION_ROLE_ARN,
      environment: {},
      cluster: 'sluice',
      subnets: ['subnet-a'],
      securityGroup: 'sg-1',
      maxTasksPerAlgorithm: 10,
    });
    const def = { ...detect, minHotWorkers: 0 } as AlgorithmDefinition;
    const before = ecs.calls('RunTask').length;
    expect(await images.scale(def, 0)).toBe(0);
    expect(await images.scale(def, 25)).toBe(12); // maxWorkers 12: RunTask allows 10 per call
    const runs = ecs.calls('RunTask').slice(before);
    expect(runs.map((r) => r.count)).toEqual([10, 2]);
    expect(runs[0]).toMatchObject({
      cluster: 'sluice',
      taskDefinition: 'sl-alg-detect',
      launchType: 'FARGATE',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: ['subnet-a'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' },
      },
    });
    expect(await images.scale(def, 25)).toBe(0); // 12 run already
    expect(await images.scale(def, 13)).toBe(0);
    const [first] = ecs.running('sl-alg-detect');
    await ecs.stopTask(first!);
    expect(await images.scale(def, 5)).toBe(0); // 11 run, 5 wait: enough
    expect(await images.scale(def, 20)).toBe(1);
  });
});
