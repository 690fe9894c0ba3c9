// The deployment's knobs, read from CDK context (`cdk.json`, or `-c key=value` on the command
// line). Every option is validated here, with its default documented next to it, so a typo fails
// the synth with the option's name instead of deploying something unexpected.
import type { Node } from 'constructs';

export type NetworkMode = 'nat' | 'endpoints' | 'public';
export type ApiAuth = 'iam' | 'apiKey';
export type WorkerArch = 'arm64' | 'x86_64';

export interface InfraConfig {
  /** Prefix of physical names (stacks, the cron function, cron rules, task families). Default `sluice`. */
  prefix: string;
  /** Upper bound of worker containers (SLUICE_MAX_WORKERS = maxWorkers x slots per worker). Default 10. */
  maxWorkers: number;
  /** Tasks kept running when every queue is empty: 0 (no idle Fargate cost) or more. Default 0. */
  minWorkers: number;
  /** Fargate CPU units of one worker task (256..16384, a valid Fargate pair with memory). Default 1024. */
  workerCpu: number;
  /** Fargate memory (MiB) of one worker task. Default 2048. */
  workerMemoryMiB: number;
  /** CPU architecture of workers (Graviton is ~20% cheaper; building it on x86 needs buildx/QEMU). Default arm64. */
  workerArch: WorkerArch;
  /**
   * `nat`: private subnets with one NAT gateway (workers can fetch http(s):// inputs).
   * `endpoints`: isolated subnets, no internet; SQS/ECR/Logs interface endpoints instead.
   * `public`: public subnets, no NAT (the NAT is most of the idle bill); workers get public IPs
   * for outbound traffic and accept no inbound connection (security group without ingress).
   * All get the free S3 and DynamoDB gateway endpoints. Default `nat`.
   */
  network: NetworkMode;
  /**
   * Run workers on Fargate Spot (about 70% cheaper; AWS may take a task back with two minutes'
   * notice, and the worker hands its tasks back to the queues): 4 of 5 workers on Spot, 1 on
   * regular Fargate so work goes on when Spot capacity is short. Default false.
   */
  workerSpot: boolean;
  /**
   * API Gateway writes access logs through one CloudWatch role per account and region. `true`
   * creates it and sets it on the account (kept on `cdk destroy`: other APIs may use it); `false`
   * leaves the account's setting alone (it must already name a role, or the deploy fails). Default true.
   */
  apiCloudWatchRole: boolean;
  /** `iam` (SigV4-signed requests) or `apiKey` (x-api-key + usage plan). Never open. Default `iam`. */
  apiAuth: ApiAuth;
  /** `retain` keeps tables, buckets and the file system on `cdk destroy`; `destroy` (dev) removes them. Default `retain`. */
  removalPolicy: 'retain' | 'destroy';
  /** Directory (relative to the repo root) holding `<name>.ts` handler entries. Default `functions`. */
  functionsDir: string;
  /** Minutes between dispatch ticks (ttl enforcement, stuck-job reconciliation, fleet size). Default 1. */
  tickMinutes: number;
  /** Reserved concurrency of `dispatch` (0 = none; needs 10 unreserved in the account). Default 1. */
  dispatchConcurrency: number;
  /**
   * Let the dispatch tick resize the worker service from the queues (waiting + running tasks) every
   * tick, instead of waiting minutes for CloudWatch's SQS metrics; it scales in only when nothing
   * waits and nothing runs, never below minWorkers. The step-scaling policy stays as the guard
   * that works without it. Default true.
   */
  dispatchScalesWorkers: boolean;
  /** Days final jobs, their tasks and webhook records are kept before DynamoDB TTL deletes them. Default 30. */
  retentionDays: number;
  /**
   * GiB of each worker's ephemeral storage given to the dataset cache of pipelines with
   * `options.cache` (0 = no cache: such tasks read their origins directly). Storage beyond
   * Fargate's free 20 GiB is added to the task (cache + 10 GiB, at most 200). Default 10.
   */
  workerCacheGiB: number;
  /** E-mail address subscribed to the alarm topic (confirm the subscription mail). Default: none. */
  alarmEmail?: string;
  /**
   * An EC2 capacity provider of the cluster with GPU instances: algorithms with `gpu` run there
   * (SLUICE_GPU_CAPACITY_PROVIDER). Default: none, and `gpu` is refused when an algorithm is stored.
   */
  gpuCapacityProvider?: string;
  /** Image for user algorithm tasks (e.g. an ECR URI built FROM the worker image); default: the worker image. */
  algorithmImage?: string;
}

/** Fargate's ephemeral storage stops at 200 GiB; 10 GiB stay for the image and temporary files. */
export const MAX_WORKER_CACHE_GIB = 190;
/** What Fargate gives every task at no extra cost. */
export const FREE_EPHEMERAL_GIB = 20;

/** A worker's ephemeral storage for its dataset cache, undefined while the free 20 GiB suffice. */
export function workerEphemeralGiB(cacheGiB: number): number | undefined {
  const need = cacheGiB + 10;
  return need > FREE_EPHEMERAL_GIB ? need : undefined;
}

export const DEFAULT_CONFIG: InfraConfig = {
  prefix: 'sluice',
  maxWorkers: 10,
  minWorkers: 0,
  workerCpu: 1024,
  workerMemoryMiB: 2048,
  workerArch: 'arm64',
  network: 'nat',
  workerSpot: false,
  apiCloudWatchRole: true,
  apiAuth: 'iam',
  removalPolicy: 'retain',
  functionsDir: 'functions',
  tickMinutes: 1,
  dispatchConcurrency: 1,
  dispatchScalesWorkers: true,
  retentionDays: 30,
  workerCacheGiB: 10,
};

/** Context keys are the option names; values from `-c` arrive as strings, from cdk.json as JSON. */
export function readInfraConfig(node: Node): InfraConfig {
  const raw = (key: keyof InfraConfig): unknown => node.tryGetContext(key);
  const int = (key: keyof InfraConfig, min: number, max: number): number => {
    const v = raw(key);
    if (v === undefined) return DEFAULT_CONFIG[key] as number;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`context ${key} must be an integer in [${min}, ${max}] (got ${JSON.stringify(v)})`);
    }
    return n;
  };
  const oneOf = <T extends string>(key: keyof InfraConfig, allowed: readonly T[]): T => {
    const v = raw(key);
    if (v === undefined) return DEFAULT_CONFIG[key] as T;
    if (typeof v !== 'string' || !allowed.includes(v as T)) {
      throw new Error(`context ${key} must be one of ${allowed.join(', ')} (got ${JSON.stringify(v)})`);
    }
    return v as T;
  };
  const bool = (key: keyof InfraConfig): boolean => {
    const v = raw(key);
    if (v === undefined) return DEFAULT_CONFIG[key] as boolean;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw new Error(`context ${key} must be true or false (got ${JSON.stringify(v)})`);
  };
  const str = (key: keyof InfraConfig, pattern: RegExp, rule: string): string | undefined => {
    const v = raw(key);
    if (v === undefined) return DEFAULT_CONFIG[key] as string | undefined;
    if (typeof v !== 'string' || !pattern.test(v)) {
      throw new Error(`context ${key} must be ${rule} (got ${JSON.stringify(v)})`);
    }
    return v;
  };

  const config: InfraConfig = {
    prefix: str(
      'prefix',
      /^[a-z][a-z0-9-]{0,19}$/,
      'lowercase letters, digits and -, at most 20 characters',
    )!,
    maxWorkers: int('maxWorkers', 1, 1000),
    minWorkers: int('minWorkers', 0, 1000),
    workerCpu: int('workerCpu', 256, 16384),
    workerMemoryMiB: int('workerMemoryMiB', 512, 122880),
    workerArch: oneOf('workerArch', ['arm64', 'x86_64'] as const),
    network: oneOf('network', ['nat', 'endpoints', 'public'] as const),
    workerSpot: bool('workerSpot'),
    apiCloudWatchRole: bool('apiCloudWatchRole'),
    apiAuth: oneOf('apiAuth', ['iam', 'apiKey'] as const),
    removalPolicy: oneOf('removalPolicy', ['retain', 'destroy'] as const),
    functionsDir: str('functionsDir', /^[\w./-]+$/, 'a relative directory')!,
    tickMinutes: int('tickMinutes', 1, 60),
    dispatchConcurrency: int('dispatchConcurrency', 0, 100),
    dispatchScalesWorkers: bool('dispatchScalesWorkers'),
    retentionDays: int('retentionDays', 1, 3650),
    workerCacheGiB: int('workerCacheGiB', 0, MAX_WORKER_CACHE_GIB),
    algorithmImage: str('algorithmImage', /^\S+$/, 'an image reference'),
    gpuCapacityProvider: str(
      'gpuCapacityProvider',
      /^[A-Za-z0-9_-]{1,255}$/,
      'a capacity provider name (letters, digits, - and _)',
    ),
    alarmEmail: str('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'),
  };
  if (config.minWorkers > config.maxWorkers) {
    throw new Error(
      `context minWorkers (${config.minWorkers}) must not exceed maxWorkers (${config.maxWorkers})`,
    );
  }
  return config;
}
