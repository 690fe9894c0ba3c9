// The AWS backend's configuration: the names of its tables, queues and buckets, read from the
// environment that the CDK stacks set on every function and container task. One list, so infra
// and runtime can never disagree on a variable name. Readers fail fast with the variable's name.

export const AWS_ENV = {
  /** DynamoDB table of jobs (one item per job + per-node counter items). */
  jobsTable: 'SLUICE_JOBS_TABLE',
  /** DynamoDB table of tasks (one item per task; GSIs for listing). */
  tasksTable: 'SLUICE_TASKS_TABLE',
  /** DynamoDB table of stored pipelines, algorithms and webhook deliveries. */
  registryTable: 'SLUICE_REGISTRY_TABLE',
  /** JSON object {"1": url, ..., "5": url}: one SQS task queue per priority level. */
  taskQueueUrls: 'SLUICE_TASK_QUEUE_URLS',
  /** SQS queue of task outcomes (workers → status function). */
  statusQueueUrl: 'SLUICE_STATUS_QUEUE_URL',
  /** SQS queue of engine events (expand/dispatch work). */
  eventQueueUrl: 'SLUICE_EVENT_QUEUE_URL',
  /** S3 bucket for blobs: results, large flowInputs, logs. */
  blobBucket: 'SLUICE_BLOB_BUCKET',
  /**
   * S3 bucket of uploaded algorithm code (`code/<sha256>.<ext>`; never expires). Default: the blob
   * bucket (whose objects expire after the retention period: set this in a deployment).
   */
  codeBucket: 'SLUICE_CODE_BUCKET',
  /** S3 bucket watched for pipeline descriptors (s3-trigger). */
  triggerBucket: 'SLUICE_TRIGGER_BUCKET',
  /**
   * EventBridge Scheduler: the cron function's ARN, the schedule group the stack owns (one schedule
   * per cron trigger lives there), the role Scheduler assumes to invoke the cron function, and the
   * SQS queue an undeliverable cron event goes to.
   */
  cronTargetArn: 'SLUICE_CRON_TARGET_ARN',
  cronScheduleGroup: 'SLUICE_CRON_SCHEDULE_GROUP',
  cronSchedulerRoleArn: 'SLUICE_CRON_SCHEDULER_ROLE_ARN',
  cronDeadLetterArn: 'SLUICE_CRON_DEAD_LETTER_ARN',
  /** ECS: cluster, worker task definition, subnets (comma-separated), security group. */
  ecsCluster: 'SLUICE_ECS_CLUSTER',
  workerTaskDefinition: 'SLUICE_WORKER_TASK_DEFINITION',
  workerSubnets: 'SLUICE_WORKER_SUBNETS',
  workerSecurityGroup: 'SLUICE_WORKER_SECURITY_GROUP',
  /**
   * `true` where the worker subnets are public with no NAT (the stacks' network=public): tasks the
   * dispatch function starts (algorithms' own tasks) get a public IP for their outbound traffic
   * (image pulls, the queues). Default `false`.
   */
  workerPublicIp: 'SLUICE_WORKER_PUBLIC_IP',
  /** Where EFS is mounted in workers. */
  sharedVolumePath: 'SLUICE_SHARED_VOLUME',
  /** Global cap of running tasks. */
  maxWorkers: 'SLUICE_MAX_WORKERS',
  /** Task slots per worker container (default: its CPU count). */
  workerSlots: 'SLUICE_WORKER_SLOTS',
  /** Lease of a claimed task without a heartbeat, in seconds (default 60). */
  leaseSeconds: 'SLUICE_LEASE_SECONDS',
  /** Waiting tasks gain one priority level per this many seconds (default 60; 0 = no aging). */
  agingSeconds: 'SLUICE_AGING_SECONDS',
  /**
   * Seconds a finished job's after-steps (result webhook, triggers, admission) may be owed before
   * the dispatch tick runs them again (default 60).
   */
  finishingGraceSeconds: 'SLUICE_FINISHING_GRACE_SECONDS',
  /**
   * Most tasks one invocation creates for a batch node (default 5000): a larger batch is expanded
   * in parts, each continued by the expand function from a checkpoint on the node.
   */
  expandMaxItems: 'SLUICE_EXPAND_MAX_ITEMS',
  /** Days final jobs, tasks and webhook records are kept before DynamoDB TTL removes them (30). */
  retentionDays: 'SLUICE_RETENTION_DAYS',
  /** ECS capacity provider / launch: the worker service name when workers run as a service. */
  workerService: 'SLUICE_WORKER_SERVICE',
  /** Workers the dispatch tick keeps when the queues are empty (default 0). */
  minWorkers: 'SLUICE_MIN_WORKERS',
  /**
   * Largest api function answer returned inline, in bytes of the Lambda response (default
   * 5,242,880; Lambda stops at 6 MB): a larger GET answer is written to the blob bucket under
   * `api-answers/` and answered with a 303 to a presigned URL of it.
   */
  apiInlineMaxBytes: 'SLUICE_API_INLINE_MAX_BYTES',
  /**
   * Algorithms with an image (adapters/aws/algorithm-images.ts): the worker image their init
   * container copies Node.js and the worker from (set: the api function registers their task
   * definitions), the roles and log group of those tasks, the family prefix, and an EC2 capacity
   * provider with GPU instances (without it, `gpu` is refused).
   */
  algorithmWorkerImage: 'SLUICE_ALGORITHM_WORKER_IMAGE',
  algorithmTaskRoleArn: 'SLUICE_ALGORITHM_TASK_ROLE_ARN',
  algorithmExecutionRoleArn: 'SLUICE_ALGORITHM_EXECUTION_ROLE_ARN',
  algorithmLogGroup: 'SLUICE_ALGORITHM_LOG_GROUP',
  algorithmFamilyPrefix: 'SLUICE_ALGORITHM_FAMILY_PREFIX',
  gpuCapacityProvider: 'SLUICE_GPU_CAPACITY_PROVIDER',
  /**
   * Set on every function and worker: algorithms with an image have their own task queue
   * `<this>-alg-<name>` (adapters/aws/algorithm-queues.ts). Unset: every task uses the shared queues.
   */
  algorithmQueuePrefix: 'SLUICE_ALGORITHM_QUEUE_PREFIX',
  /** In an algorithm's own task: the one algorithm its worker runs. */
  algorithm: 'SLUICE_ALGORITHM',
  /** The worker drains and exits after this many seconds with nothing to run (default: never). */
  idleExitSeconds: 'SLUICE_IDLE_EXIT_SECONDS',
} as const;

export type AwsEnvKey = keyof typeof AWS_ENV;

export function requireEnv(env: NodeJS.ProcessEnv, key: AwsEnvKey): string {
  const name = AWS_ENV[key];
  const v = env[name];
  if (!v) throw new Error(`environment variable ${name} is not set (the ${key} of the Sluice AWS backend)`);
  return v;
}

export function numberEnv(env: NodeJS.ProcessEnv, key: AwsEnvKey, fallback: number): number {
  const name = AWS_ENV[key];
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`environment variable ${name} must be a number (got "${v}")`);
  return n;
}

/**
 * The trigger bucket's layout: descriptors put under TRIGGER_UPLOAD_PREFIX start runs (the S3
 * notification filters on it); the run's marker (`.job.json` / `.error.json`) is written under
 * TRIGGER_MARKER_PREFIX + the descriptor's key, outside the watched prefix, so it never triggers.
 */
export const TRIGGER_UPLOAD_PREFIX = 'pipelines/';
export const TRIGGER_MARKER_PREFIX = 'jobs/';
/** Objects with these suffixes under the upload prefix start a run. */
export const TRIGGER_SUFFIXES = ['.json', '.yml', '.yaml'] as const;

/**
 * Where the api function writes answers too large for a Lambda response (SLUICE_API_INLINE_MAX_BYTES)
 * in the blob bucket; a lifecycle rule expires them after a day.
 */
export const LARGE_ANSWER_PREFIX = 'api-answers/';

/** Entry points the stacks deploy: functions/<name>.ts export `handler`. */
export const FUNCTION_NAMES = ['api', 's3-trigger', 'cron', 'expand', 'dispatch', 'status'] as const;
/** The container task entry point (container-tasks/worker.ts) and its default EFS mount. */
export const WORKER_ENTRY = 'container-tasks/worker.ts';
/** The same entry in the worker bundle (scripts/bundle-worker.mjs), relative to its directory. */
export const WORKER_BUNDLE_ENTRY = 'container-tasks/worker.js';
export const DEFAULT_SHARED_VOLUME = '/mnt/sluice';
