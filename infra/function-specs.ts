// What each Lambda function may touch, in one table: the scheduler stack turns it into IAM grants,
// event sources and settings, and the tests check the synthesized policies against it. Changing
// what a handler does means changing its row here, nowhere else.
import type { FUNCTION_NAMES } from '../shared/adapters/aws/config.ts';

export type FunctionName = (typeof FUNCTION_NAMES)[number];
export type QueueName = 'tasks' | 'status' | 'event' | 'trigger';

export interface FunctionSpec {
  description: string;
  memoryMiB: number;
  timeoutSeconds: number;
  /** Triggered by this SQS queue (batches; partial batch failures reported). */
  consumes?: { queue: QueueName; batchSize: number; maxConcurrency: number };
  /**
   * Queues it sends to: `event` (a reconcile for expand: deferred expansions, the continuation of
   * a batch split over invocations), `tasks` (ready tasks), `status` (outcomes).
   */
  sends: QueueName[];
  /**
   * The registry items it writes: `all` (stored pipelines and algorithms too), else only the
   * runtime's (webhook deliveries, maxWorkers slots, worker reports: REGISTRY_RUNTIME_KEYS).
   */
  registryWrites: 'all' | 'runtime';
  /**
   * The trigger bucket: reads descriptors under the upload prefix, writes `.job.json` /
   * `.error.json` markers under the marker prefix; nothing else of the bucket.
   */
  triggerBucket?: boolean;
  /**
   * Receives, deletes and re-sends messages of the task queues below the top level without
   * running them (priority aging moves a waiting task up a level, or puts a fresh copy back).
   */
  agesTasks?: boolean;
  /** Reads the depth of every queue (the fleet size; the recovery sweep's "nothing in flight"). */
  countsQueues?: boolean;
  /**
   * Algorithms with an image (with dispatchScalesWorkers): `register` creates an algorithm's queue
   * and registers its task definition when it is stored; `run` starts its tasks from the depth of
   * its queue. Every function that sends tasks may send to those queues.
   */
  algorithmImages?: 'register' | 'run';
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
 * Every function runs the shared Coordinator (AwsEngine): it reads and writes the jobs and tasks
 * tables (any transition may create, retry or stop tasks), reads the registry and writes its
 * webhook records, gets and puts large values in the blob bucket (never lists or deletes them).
 * Those grants are common (infra/data-grants.ts has the exact actions); this table lists what
 * differs.
 */
export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  api: {
    description:
      'REST API /api/v1 (exec, store, status, results, events) and the dashboard behind API Gateway',
    memoryMiB: 1024,
    timeoutSeconds: 29, // API Gateway's integration timeout
    registryWrites: 'all', // the only writer of stored pipelines and algorithms
    // Expansions are deferred to expand (event); the tasks a client adds to a dynamic job
    // (`sluice make`: POST /exec/dynamic/{jobId}/tasks) are enqueued here.
    sends: ['event', 'tasks'],
    cronSchedules: true, // storing a pipeline with a cron trigger refreshes its schedule
    algorithmImages: 'register', // storing an algorithm with an image: its queue, its task definition
    servesDashboard: true, // GET / and its files, behind the API's own authorization
  },
  's3-trigger': {
    description: 'Starts a run for each pipeline descriptor put into the trigger bucket',
    memoryMiB: 512,
    timeoutSeconds: 60,
    // S3 notifications through SQS (retries, then the DLQ); duplicates are found by job id.
    consumes: { queue: 'trigger', batchSize: 10, maxConcurrency: 2 },
    sends: ['event', 'tasks'],
    registryWrites: 'runtime',
    triggerBucket: true,
  },
  cron: {
    description: 'Runs a stored pipeline when its EventBridge Scheduler cron schedule fires',
    memoryMiB: 512,
    timeoutSeconds: 60,
    registryWrites: 'runtime',
    sends: ['event', 'tasks'],
    asyncInvoked: true,
  },
  expand: {
    description: 'Applies engine events (reconcile): expands DAG nodes and batches into tasks',
    memoryMiB: 1769, // one full vCPU: expanding a 100,000-item batch is CPU-bound
    // One invocation creates at most SLUICE_EXPAND_MAX_ITEMS (5,000) tasks of a batch, a few
    // seconds of batched writes; a larger batch continues from its checkpoint in the next one.
    timeoutSeconds: 60,
    consumes: { queue: 'event', batchSize: 10, maxConcurrency: 5 },
    registryWrites: 'runtime',
    sends: ['event', 'tasks'],
  },
  dispatch: {
    description: 'The tick: ttl enforcement, stuck-job reconciliation, worker fleet size from queue depth',
    memoryMiB: 1024,
    timeoutSeconds: 60,
    sends: ['event', 'tasks', 'status'], // status: outcomes of tasks whose lease expired
    registryWrites: 'runtime',
    agesTasks: true, // priority aging: receive from a lower level, send higher, delete
    countsQueues: true,
    ecs: true,
    algorithmImages: 'run', // the tasks of each image algorithm, sized on its own queue
    tick: true,
    asyncInvoked: true,
  },
  status: {
    description: 'Applies task outcomes reported by workers; retries or finishes nodes and jobs',
    memoryMiB: 1024,
    timeoutSeconds: 30,
    consumes: { queue: 'status', batchSize: 10, maxConcurrency: 10 },
    registryWrites: 'runtime',
    sends: ['event', 'tasks'],
  },
};
