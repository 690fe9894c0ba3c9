// What each Lambda function may touch, in one table: the scheduler stack turns it into IAM grants,
// event sources and settings, and the tests check the synthesized policies against it. Changing
// what a handler does means changing its row here, nowhere else.
import type { FUNCTION_NAMES } from '../shared/adapters/aws/config.ts';

export type FunctionName = (typeof FUNCTION_NAMES)[number];
export type Access = 'read' | 'readWrite';
export type QueueName = 'tasks' | 'status' | 'event';

export interface FunctionSpec {
  description: string;
  memoryMiB: number;
  timeoutSeconds: number;
  tables: { jobs?: Access; tasks?: Access; registry?: Access };
  blobBucket?: Access;
  triggerBucket?: Access;
  /** Queues it sends to (`tasks` = all five priority queues). */
  sends: QueueName[];
  /** The SQS queue it is triggered by (batch, partial batch failures reported). */
  consumes?: { queue: QueueName; batchSize: number; maxConcurrency: number };
  /** Runs and stops worker/algorithm tasks on the ECS cluster. */
  ecs?: boolean;
  /** Manages the EventBridge rules named SLUICE_CRON_RULE_PREFIX*, targeting the cron function. */
  cronRules?: boolean;
  /** Target of the periodic tick rule. */
  tick?: boolean;
}

export const FUNCTION_SPECS: Record<FunctionName, FunctionSpec> = {
  api: {
    description: 'REST API /api/v1 (exec, store, status, results) behind API Gateway',
    memoryMiB: 1024,
    timeoutSeconds: 29, // API Gateway's integration timeout
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'readWrite' },
    blobBucket: 'readWrite',
    sends: ['event'],
  },
  's3-trigger': {
    description: 'Starts a run for each pipeline descriptor put into the trigger bucket',
    memoryMiB: 512,
    timeoutSeconds: 60,
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'read' },
    blobBucket: 'readWrite',
    triggerBucket: 'read',
    sends: ['event'],
  },
  cron: {
    description: 'Fires cron triggers, keeps one EventBridge rule per cron trigger, enforces ttl on ticks',
    memoryMiB: 512,
    timeoutSeconds: 60,
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'read' },
    blobBucket: 'readWrite',
    sends: ['event'],
    cronRules: true,
    tick: true,
  },
  expand: {
    description: 'Applies engine events: expands DAG nodes and batches into tasks',
    memoryMiB: 1769, // one full vCPU: expanding a 100,000-item batch is CPU-bound
    timeoutSeconds: 60,
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'readWrite' },
    blobBucket: 'readWrite',
    sends: ['event', 'tasks'],
    consumes: { queue: 'event', batchSize: 10, maxConcurrency: 5 },
  },
  dispatch: {
    description:
      'Moves queued tasks to the priority queues within the caps; ages waiting tasks; expires leases',
    memoryMiB: 1024,
    timeoutSeconds: 60,
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'read' },
    sends: ['event', 'tasks'],
    ecs: true,
    tick: true,
  },
  status: {
    description: 'Applies task outcomes reported by workers; retries or finishes nodes and jobs',
    memoryMiB: 1024,
    timeoutSeconds: 30,
    tables: { jobs: 'readWrite', tasks: 'readWrite', registry: 'readWrite' },
    blobBucket: 'readWrite',
    sends: ['event', 'tasks'],
    consumes: { queue: 'status', batchSize: 10, maxConcurrency: 10 },
  },
};
