// The ECS task definition of an algorithm that names an `image`: its own Fargate task, sized by
// its `cpu`/`mem` (rounded up to a valid Fargate size), running the user's image. The image needs
// no Sluice code: an init container from the worker image copies Node.js and the Sluice worker
// into a task-local volume, and the algorithm container's entry point is overridden to run that
// worker on the algorithm's own task queue (algorithm-queues.ts; SLUICE_ALGORITHM names it for
// logs), which starts the algorithm with the image's own python3/node. `gpu` needs an EC2 capacity provider with GPU instances (Fargate has
// none); without one it is refused when the algorithm is stored.
import type { RegisterTaskDefinitionCommandInput } from '@aws-sdk/client-ecs';
import { ValidationError } from '../../errors.ts';
import { memoryInMiB } from '../../pipeline/memory-quantity.ts';
import type { AlgorithmDefinition } from '../../pipeline/types.ts';
import { ALGORITHM_USER_ENV } from '../../runner/algorithm-isolation.ts';
import { WORKER_BUNDLE_ENTRY } from './config.ts';

/** uid:gid user algorithms run as in their own tasks (the worker image's `node` user, as on the generic worker). */
export const ALGORITHM_TASK_USER = '1000:1000';

/** Fargate's Linux sizes: CPU units and the memory values (MiB) each allows. */
const range = (first: number, last: number, step: number) =>
  Array.from({ length: (last - first) / step + 1 }, (_, i) => first + i * step);
const FARGATE_SIZES: readonly { cpu: number; memory: readonly number[] }[] = [
  { cpu: 256, memory: [512, 1024, 2048] },
  { cpu: 512, memory: range(1024, 4096, 1024) },
  { cpu: 1024, memory: range(2048, 8192, 1024) },
  { cpu: 2048, memory: range(4096, 16384, 1024) },
  { cpu: 4096, memory: range(8192, 30720, 1024) },
  { cpu: 8192, memory: range(16384, 61440, 4096) },
  { cpu: 16384, memory: range(32768, 122880, 8192) },
];

/** Memory the Sluice worker beside the algorithm needs, added to the algorithm's `mem`. */
export const WORKER_OVERHEAD_MIB = 256;
/** How long an algorithm's task stays hot with nothing to run before it ends. */
export const ALGORITHM_IDLE_EXIT_SECONDS = 300;
/** What an algorithm without `cpu` / `mem` gets (the generic worker's default size). */
export const DEFAULT_ALGORITHM_CPU = 1;
export const DEFAULT_ALGORITHM_MEM_MIB = 2048 - WORKER_OVERHEAD_MIB;

export interface FargateSize {
  /** CPU units (1024 = 1 vCPU), as ECS wants them. */
  cpu: number;
  memoryMiB: number;
}

/** The smallest valid Fargate size with at least `cpu` vCPUs and `memMiB` MiB, or why there is none. */
export function fargateSize(cpu: number, memMiB: number): FargateSize | { error: string } {
  const units = Math.ceil(cpu * 1024);
  for (const size of FARGATE_SIZES) {
    const memoryMiB = size.memory.find((m) => m >= memMiB);
    if (size.cpu >= units && memoryMiB !== undefined) return { cpu: size.cpu, memoryMiB };
  }
  return {
    error: `no Fargate size has ${cpu} vCPU and ${Math.ceil(memMiB)} MiB (at most 16 vCPU and 120 GiB)`,
  };
}

export interface AlgorithmTaskOptions {
  /** Prefix of the task definition families (the deployment's `prefix`). */
  prefix: string;
  /** The Sluice worker image (holds Node.js and the worker under /app). */
  workerImage: string;
  taskRoleArn: string;
  executionRoleArn: string;
  /** The worker's environment (the AWS_ENV contract: tables, queues, bucket). */
  environment: Record<string, string>;
  /** CloudWatch Logs group and region of the containers' logs. */
  logGroup?: string;
  region?: string;
  cpuArchitecture?: 'ARM64' | 'X86_64';
  /** An EC2 capacity provider with GPU instances: algorithms with `gpu` run there. */
  gpuCapacityProvider?: string;
}

/** The task definition family of an algorithm (ECS allows letters, digits, `-`, `_`; 255 at most). */
export function algorithmFamily(prefix: string, name: string): string {
  return `${prefix}-alg-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`.slice(0, 255);
}

/** Where the init container puts Node.js and the worker, inside the algorithm container. */
export const RUNTIME_MOUNT = '/sluice-runtime';
const RUNTIME_VOLUME = 'sluice-runtime';

/**
 * RegisterTaskDefinition's input for an algorithm with an image. Throws a ValidationError (the
 * API's 400) for what no task could run: a `gpu` without a GPU capacity provider, a size beyond
 * Fargate's.
 */
export function algorithmTaskDefinition(
  def: AlgorithmDefinition,
  o: AlgorithmTaskOptions,
  /** The algorithm's own task queue (algorithm-queues.ts): its worker reads only that one. */
  taskQueueUrl?: string,
): RegisterTaskDefinitionCommandInput {
  if (!def.image) throw new ValidationError(`algorithm '${def.name}' has no image`, 'image');
  const gpu = def.gpu ?? 0;
  if (gpu > 0 && !o.gpuCapacityProvider) {
    throw new ValidationError(
      `algorithm '${def.name}' asks for gpu ${gpu}, but Fargate has no GPUs and this deployment has no GPU capacity provider (deploy with -c gpuCapacityProvider=NAME, or remove gpu)`,
      'gpu',
    );
  }
  const memMiB =
    (def.mem === undefined ? DEFAULT_ALGORITHM_MEM_MIB : (memoryInMiB(def.mem) ?? 0)) + WORKER_OVERHEAD_MIB;
  const size = fargateSize(def.cpu ?? DEFAULT_ALGORITHM_CPU, memMiB);
  if ('error' in size) throw new ValidationError(`algorithm '${def.name}': ${size.error}`, 'cpu');
  const logging = (stream: string) =>
    o.logGroup
      ? {
          logConfiguration: {
            logDriver: 'awslogs' as const,
            options: {
              'awslogs-group': o.logGroup,
              'awslogs-stream-prefix': stream,
              ...(o.region ? { 'awslogs-region': o.region } : {}),
            },
          },
        }
      : {};
  const environment = {
    ...o.environment,
    SLUICE_ALGORITHM: def.name,
    SLUICE_WORKER_SLOTS: '1',
    // The worker runs as root (below) and the algorithm as this uid, as in the generic worker: it
    // can read neither the worker's environment nor the task role's credentials endpoint.
    [ALGORITHM_USER_ENV]: ALGORITHM_TASK_USER,
    // Hot for a while after its last task, then the task ends: scale to zero.
    SLUICE_IDLE_EXIT_SECONDS: String(ALGORITHM_IDLE_EXIT_SECONDS),
    ...(taskQueueUrl
      ? {
          SLUICE_TASK_QUEUE_URLS: JSON.stringify({
            1: taskQueueUrl,
            2: taskQueueUrl,
            3: taskQueueUrl,
            4: taskQueueUrl,
            5: taskQueueUrl,
          }),
        }
      : {}),
  };
  return {
    family: algorithmFamily(o.prefix, def.name),
    requiresCompatibilities: [gpu > 0 ? 'EC2' : 'FARGATE'],
    networkMode: 'awsvpc',
    cpu: String(size.cpu),
    memory: String(size.memoryMiB),
    taskRoleArn: o.taskRoleArn,
    executionRoleArn: o.executionRoleArn,
    ...(o.cpuArchitecture
      ? { runtimePlatform: { cpuArchitecture: o.cpuArchitecture, operatingSystemFamily: 'LINUX' } }
      : {}),
    volumes: [{ name: RUNTIME_VOLUME }],
    containerDefinitions: [
      {
        name: 'sluice-runtime',
        image: o.workerImage,
        essential: false,
        // Node.js and the worker (its node_modules included) into the task-local volume.
        entryPoint: ['sh', '-c'],
        command: [`cp "$(command -v node)" ${RUNTIME_MOUNT}/node && cp -a /app ${RUNTIME_MOUNT}/app`],
        user: '0',
        mountPoints: [{ sourceVolume: RUNTIME_VOLUME, containerPath: RUNTIME_MOUNT, readOnly: false }],
        ...logging('sluice-runtime'),
      },
      {
        name: 'algorithm',
        image: def.image,
        essential: true,
        dependsOn: [{ containerName: 'sluice-runtime', condition: 'SUCCESS' }],
        // The worker bundle, as the worker image's own ENTRYPOINT runs it (no TypeScript in the
        // image), by its absolute path: the working directory stays the image's WORKDIR, where an
        // algorithm without a codePath finds its code.
        entryPoint: [`${RUNTIME_MOUNT}/node`, `${RUNTIME_MOUNT}/app/${WORKER_BUNDLE_ENTRY}`],
        user: '0:0',
        environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
        mountPoints: [{ sourceVolume: RUNTIME_VOLUME, containerPath: RUNTIME_MOUNT, readOnly: true }],
        linuxParameters: { initProcessEnabled: true },
        stopTimeout: 120,
        ...(gpu > 0 ? { resourceRequirements: [{ type: 'GPU', value: String(gpu) }] } : {}),
        ...logging('algorithm'),
      },
    ],
  };
}
