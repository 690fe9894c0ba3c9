// An image algorithm's ECS task definition: Fargate sizes, the injected Sluice runtime, gpu rules.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../../../infra/stacks/workers-stack.ts';
import { algorithmImagesOptionsFromEnv } from '../../../../shared/adapters/aws/algorithm-images.ts';
import {
  algorithmFamily,
  algorithmTaskDefinition,
  fargateSize,
  RUNTIME_MOUNT,
} from '../../../../shared/adapters/aws/algorithm-task-definition.ts';
import type { AlgorithmDefinition } from '../../../../shared/pipeline/types.ts';

/** The worker image's ENTRYPOINT: ["node", "<the bundle's worker>"]. */
const dockerEntry = JSON.parse(
  /^ENTRYPOINT (\[.*\])$/m.exec(
    readFileSync(path.join(REPO_ROOT, 'container-tasks/Dockerfile'), 'utf8'),
  )![1]!,
) as string[];

const base = {
  prefix: 'sluice',
  workerImage: '123.dkr.ecr.us-east-1.amazonaws.com/sluice-worker:abc',
  taskRoleArn: 'arn:aws:iam::123:role/task',
  executionRoleArn: 'arn:aws:iam::123:role/exec',
  environment: { SLUICE_JOBS_TABLE: 'jobs' },
};
const alg = (fields: Partial<AlgorithmDefinition>): AlgorithmDefinition => ({
  name: 'detect',
  env: 'python',
  entryPoint: 'main.py',
  image: 'acme/detect:1',
  minHotWorkers: 0,
  ...fields,
});

describe('fargateSize', () => {
  it('rounds a request up to the smallest valid Fargate size', () => {
    expect(fargateSize(0.25, 300)).toEqual({ cpu: 256, memoryMiB: 512 });
    expect(fargateSize(0.25, 1500)).toEqual({ cpu: 256, memoryMiB: 2048 });
    expect(fargateSize(0.25, 3000)).toEqual({ cpu: 512, memoryMiB: 3072 }); // beyond 0.25 vCPU's 2 GiB
    expect(fargateSize(1, 2048)).toEqual({ cpu: 1024, memoryMiB: 2048 });
    expect(fargateSize(1.5, 100)).toEqual({ cpu: 2048, memoryMiB: 4096 });
    expect(fargateSize(3, 20_000)).toEqual({ cpu: 4096, memoryMiB: 20480 });
    expect(fargateSize(8, 17_000)).toEqual({ cpu: 8192, memoryMiB: 20480 }); // 4 GiB steps
    expect(fargateSize(1, 40_000)).toEqual({ cpu: 8192, memoryMiB: 40960 });
    expect(fargateSize(17, 1024)).toEqual({
      error: 'no Fargate size has 17 vCPU and 1024 MiB (at most 16 vCPU and 120 GiB)',
    });
  });
});

describe('algorithmTaskDefinition', () => {
  it("runs the user's image with the Sluice worker injected by an init container", () => {
    const td = algorithmTaskDefinition(alg({ cpu: 2, mem: '4Gi', name: 'detect v2' }), base);
    expect(td).toMatchObject({
      family: 'sluice-alg-detect-v2',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '2048',
      memory: '5120', // 4 GiB + the worker's 256 MiB, rounded up to a 1 GiB step
      taskRoleArn: base.taskRoleArn,
      executionRoleArn: base.executionRoleArn,
      volumes: [{ name: 'sluice-runtime' }],
    });
    const [init, main] = td.containerDefinitions!;
    expect(init).toMatchObject({ name: 'sluice-runtime', image: base.workerImage, essential: false });
    expect(init!.command![0]).toContain(`${RUNTIME_MOUNT}/node`);
    expect(main).toMatchObject({
      name: 'algorithm',
      image: 'acme/detect:1',
      essential: true,
      dependsOn: [{ containerName: 'sluice-runtime', condition: 'SUCCESS' }],
      // What the worker image itself runs: its bundle, by node alone (the image has no tsx).
      // By its absolute path: the working directory stays the image's WORKDIR (its code).
      entryPoint: [`${RUNTIME_MOUNT}/node`, `${RUNTIME_MOUNT}/app/${dockerEntry[1]}`],
      // The worker as root, the algorithm as another uid (it cannot read the worker's environment).
      user: '0:0',
      mountPoints: [{ sourceVolume: 'sluice-runtime', containerPath: RUNTIME_MOUNT, readOnly: true }],
    });
    expect(main!.environment).toEqual([
      { name: 'SLUICE_JOBS_TABLE', value: 'jobs' },
      { name: 'SLUICE_ALGORITHM', value: 'detect v2' },
      { name: 'SLUICE_WORKER_SLOTS', value: '1' },
      { name: 'SLUICE_ALGORITHM_USER', value: '1000:1000' },
      { name: 'SLUICE_IDLE_EXIT_SECONDS', value: '300' },
    ]);
    expect(main!.workingDirectory).toBeUndefined();
    expect(main!.resourceRequirements).toBeUndefined();
  });

  it("with its own queue, the worker's five task queues are that queue", () => {
    const td = algorithmTaskDefinition(alg({}), base, 'https://sqs/1/sluice-alg-detect');
    const env = td.containerDefinitions![1]!.environment!;
    const urls = JSON.parse(env.find((e) => e.name === 'SLUICE_TASK_QUEUE_URLS')!.value!);
    expect(urls).toEqual(
      Object.fromEntries([1, 2, 3, 4, 5].map((p) => [p, 'https://sqs/1/sluice-alg-detect'])),
    );
  });

  it('an algorithm without cpu/mem gets the generic worker size (1 vCPU, 2 GiB)', () => {
    expect(algorithmTaskDefinition(alg({}), base)).toMatchObject({ cpu: '1024', memory: '2048' });
  });

  it('refuses gpu without a GPU capacity provider, and asks EC2 for it with one', () => {
    expect(() => algorithmTaskDefinition(alg({ gpu: 1 }), base)).toThrow(
      "algorithm 'detect' asks for gpu 1, but Fargate has no GPUs and this deployment has no GPU capacity provider (deploy with -c gpuCapacityProvider=NAME, or remove gpu)",
    );
    const td = algorithmTaskDefinition(alg({ gpu: 2 }), { ...base, gpuCapacityProvider: 'gpu-fleet' });
    expect(td.requiresCompatibilities).toEqual(['EC2']);
    expect(td.containerDefinitions![1]!.resourceRequirements).toEqual([{ type: 'GPU', value: '2' }]);
  });

  it('refuses a size beyond Fargate with the field named', () => {
    expect(() => algorithmTaskDefinition(alg({ cpu: 32 }), base)).toThrow(
      "algorithm 'detect': no Fargate size has 32 vCPU",
    );
  });

  it('family names keep what ECS allows', () => {
    expect(algorithmFamily('sl', 'a.b/c_d-e')).toBe('sl-alg-a-b-c_d-e');
  });
});

describe('algorithmImagesOptionsFromEnv', () => {
  it("hands the algorithm task's worker what it reads: tables, queues, blob and code buckets, timings", () => {
    const env = {
      SLUICE_ALGORITHM_WORKER_IMAGE: 'img',
      SLUICE_ALGORITHM_TASK_ROLE_ARN: 'arn:task',
      SLUICE_ALGORITHM_EXECUTION_ROLE_ARN: 'arn:exec',
      SLUICE_ECS_CLUSTER: 'c',
      SLUICE_JOBS_TABLE: 'jobs',
      SLUICE_STATUS_QUEUE_URL: 'https://sqs/1/status',
      SLUICE_EVENT_QUEUE_URL: 'https://sqs/1/events',
      SLUICE_BLOB_BUCKET: 'blobs',
      SLUICE_CODE_BUCKET: 'code',
      SLUICE_EXPAND_MAX_ITEMS: '100',
      SLUICE_ALGORITHM_QUEUE_PREFIX: 'sluice',
      SLUICE_API_INLINE_MAX_BYTES: '1000',
      SLUICE_CRON_SCHEDULE_GROUP: 'sluice-cron',
    };
    expect(algorithmImagesOptionsFromEnv(env)?.environment).toEqual({
      SLUICE_JOBS_TABLE: 'jobs',
      SLUICE_STATUS_QUEUE_URL: 'https://sqs/1/status',
      SLUICE_EVENT_QUEUE_URL: 'https://sqs/1/events',
      SLUICE_BLOB_BUCKET: 'blobs',
      SLUICE_CODE_BUCKET: 'code',
      SLUICE_EXPAND_MAX_ITEMS: '100',
      SLUICE_ALGORITHM_QUEUE_PREFIX: 'sluice',
    });
  });

  it('gives the tasks a public IP where the worker subnets have no NAT (network=public)', () => {
    const env = {
      SLUICE_ALGORITHM_WORKER_IMAGE: 'img',
      SLUICE_ALGORITHM_TASK_ROLE_ARN: 'arn:task',
      SLUICE_ALGORITHM_EXECUTION_ROLE_ARN: 'arn:exec',
      SLUICE_ECS_CLUSTER: 'c',
    };
    expect(algorithmImagesOptionsFromEnv(env)?.assignPublicIp).toBeUndefined();
    expect(
      algorithmImagesOptionsFromEnv({ ...env, SLUICE_WORKER_PUBLIC_IP: 'false' })?.assignPublicIp,
    ).toBeUndefined();
    expect(algorithmImagesOptionsFromEnv({ ...env, SLUICE_WORKER_PUBLIC_IP: 'true' })?.assignPublicIp).toBe(
      true,
    );
  });
});
