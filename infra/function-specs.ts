// What each Lambda function may touch, in one table: the scheduler stack turns it into IAM grants,
// event sources and settings, and the tests check the synthesized policies against it. Changing
// what a handler does means changing its row here, nowhere else.
import type { FUNCTION_NAMES } from '../shared/adapters/aws/config.ts';

export type FunctionName = (typeof FUNCTION_NAMES)[number];
export type Access = 'read' | 'readWrite';
export type QueueName = 'tasks' | 'status' | 'event' | 'trigger';

export interface FunctionSpec {
  description: string;
  memoryMiB: number;
  timeoutSeconds: number;
  /** Triggered by this SQS queue (batches; partial batch failures reported). */
  consumes?: { queue: QueueName; batchSize: number; maxConcurrency: number };
  /** Queues it sends to, beyond the event and task queues every coordinator sends to. */
  alsoSends?: QueueName[];
  /** Access to the trigger bucket (s3-trigger reads descriptors and writes `.job.json` markers). */
  triggerBucket?: Access;
  /**
   * Receives, deletes and re-sends messages of the task queues without running them (priority
   * aging moves a waiting task up a level; cap skips hand it back).
   */
  agesTasks?: boolean;
  /** With dispatchScalesWorkers: scales the worker service (DescribeServices/UpdateService), may RunTask. */
  ecs?: boolean;
  /**
   * Manages the schedules of the cron schedule group (SLUICE_CRON_SCHEDULE_GROUP) and passes the
   * Scheduler role that invokes the cron function.
   */
  cronSchedules?: boolean;
  /** Target of the periodic tick rule. */
  tick?: boolean;
  /** Invoked asynchronously (EventBridge, Scheduler): failed invocations go to the failed-invocations queue. */
  asyncInvoked?: boolean;
  /** The dashboard's bundle (dist/dashboard) is built into its code asset, served at the API's `/`. */
  servesDashboard?: boolean;
}

/**
 * Every function runs the shared Coordinator (AwsEngine): it reads and writes the three tables
 * (jobs, tasks, webhook records in the registry), keeps large values in the blob bucket, enqueues
 * ready tasks on the priority queues and engine events on the event queue. Those grants are common;
 * this table lists what differs.
 */
export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  api: {
    description:
      'REST API /api/v1 (exec, store, status, results, events) and the dashboard behind API Gateway',
    memoryMiB: 1024,
    timeoutSeconds: 29, // API Gateway's integration timeout
    cronSchedules: true, // storing a pipeline with a cron trigger refreshes its schedule
    servesDashboard: true, // GET / and its files, behind the API's own authorization
  },
  's3-trigger': {
    description: 'Starts a run for each pipeline descriptor put into the trigger bucket',
    memoryMiB: 512,
    timeoutSeconds: 60,
    // S3 notifications through SQS (retries, then the DLQ); duplicates are found by job id.
    consumes: { queue: 'trigger', batchSize: 10, maxConcurrency: 2 },
    triggerBucket: 'readWrite',
  },
  cron: {
    description: 'Runs a stored pipeline when its EventBridge Scheduler cron schedule fires',
    memoryMiB: 512,
    timeoutSeconds: 60,
    asyncInvoked: true,
  },
  expand: {
    description: 'Applies engine events (reconcile): expands DAG nodes and batches into tasks',
    memoryMiB: 1769, // one full vCPU: expanding a 100,000-item batch is CPU-bound
    // One invocation creates at most SLUICE_EXPAND_MAX_ITEMS (5,000) tasks of a batch, a few
    // seconds of batched writes; a larger batch continues from its checkpoint in the next one.
    timeoutSeconds: 60,
    consumes: { queue: 'event', batchSize: 10, maxConcurrency: 5 },
  },
  dispatch: {
    description: 'The tick: ttl enforcement, stuck-job reconciliation, worker fleet size from queue depth',
    memoryMiB: 1024,
    timeoutSeconds: 60,
    alsoSends: ['status'], // outcomes of tasks whose lease expired
    agesTasks: true, // priority aging: receive from a lower level, send higher, delete
    ecs: true,
    tick: true,
    asyncInvoked: true,
  },
  status: {
    description: 'Applies task outcomes reported by workers; retries or finishes nodes and jobs',
    memoryMiB: 1024,
    timeoutSeconds: 30,
    consumes: { queue: 'status', batchSize: 10, maxConcurrency: 10 },
  },
};
