// The AWS backend's configuration, read from the environment the stacks set (names in
// adapters/aws/config.ts); fails fast naming the missing variable.
import { AWS_ENV, numberEnv, requireEnv } from '../../adapters/aws/config.ts';

/**
 * Tasks one invocation creates for a batch node: 200 BatchWriteItem and 500 SendMessageBatch
 * requests, a few seconds in AWS, far inside the status (30 s) and expand (60 s) timeouts.
 */
export const DEFAULT_EXPAND_MAX_ITEMS = 5000;

export interface AwsConfig {
  tables: { jobs: string; tasks: string; registry: string };
  taskQueueUrls: Record<number, string>;
  statusQueueUrl: string;
  eventQueueUrl?: string;
  blobBucket: string;
  /** Uploaded algorithm code (default: the blob bucket). */
  codeBucket: string;
  triggerBucket?: string;
  leaseMs: number;
  agingMs: number;
  /** Age of a finishing mark before the dispatch tick runs the job's after-steps again. */
  finishingGraceMs: number;
  retentionDays: number;
  /** Most tasks one invocation creates for a batch node (see ExpansionSplit). */
  expandMaxItems: number;
  /** Largest api answer returned inline (bytes of the Lambda response); larger ones go by URL. */
  apiInlineMaxBytes: number;
  /** Image algorithms have their own task queues, named from this prefix (algorithm-queues.ts). */
  algorithmQueuePrefix?: string;
}

/** Under Lambda's 6 MB response limit with room for the envelope and headers. */
export const DEFAULT_API_INLINE_MAX_BYTES = 5 * 1024 * 1024;

export function awsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const urlsText = requireEnv(env, 'taskQueueUrls');
  let urls: Record<string, string>;
  try {
    urls = JSON.parse(urlsText) as Record<string, string>;
  } catch {
    throw new Error(`${AWS_ENV.taskQueueUrls} must be a JSON object {"1": url, ..., "5": url}`);
  }
  const taskQueueUrls: Record<number, string> = {};
  for (let p = 1; p <= 5; p++) {
    const u = urls[String(p)];
    if (!u) throw new Error(`${AWS_ENV.taskQueueUrls} has no queue URL for priority ${p}`);
    taskQueueUrls[p] = u;
  }
  const expandMaxItems = numberEnv(env, 'expandMaxItems', DEFAULT_EXPAND_MAX_ITEMS);
  if (!Number.isInteger(expandMaxItems) || expandMaxItems < 1)
    throw new Error(`${AWS_ENV.expandMaxItems} must be a whole number of at least 1 (got ${expandMaxItems})`);
  return {
    tables: {
      jobs: requireEnv(env, 'jobsTable'),
      tasks: requireEnv(env, 'tasksTable'),
      registry: requireEnv(env, 'registryTable'),
    },
    taskQueueUrls,
    statusQueueUrl: requireEnv(env, 'statusQueueUrl'),
    ...(env[AWS_ENV.eventQueueUrl] ? { eventQueueUrl: env[AWS_ENV.eventQueueUrl] } : {}),
    blobBucket: requireEnv(env, 'blobBucket'),
    codeBucket: env[AWS_ENV.codeBucket] || requireEnv(env, 'blobBucket'),
    ...(env[AWS_ENV.triggerBucket] ? { triggerBucket: env[AWS_ENV.triggerBucket] } : {}),
    leaseMs: numberEnv(env, 'leaseSeconds', 60) * 1000,
    agingMs: numberEnv(env, 'agingSeconds', 60) * 1000,
    finishingGraceMs: numberEnv(env, 'finishingGraceSeconds', 60) * 1000,
    retentionDays: numberEnv(env, 'retentionDays', 30),
    expandMaxItems,
    apiInlineMaxBytes: numberEnv(env, 'apiInlineMaxBytes', DEFAULT_API_INLINE_MAX_BYTES),
    ...(env[AWS_ENV.algorithmQueuePrefix] ? { algorithmQueuePrefix: env[AWS_ENV.algorithmQueuePrefix] } : {}),
  };
}
