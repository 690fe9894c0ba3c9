// JSON Schemas of the API's response bodies, for the OpenAPI document. They describe what the
// operations in exec.ts, job-queries.ts, store.ts, triggers.ts, exec-dynamic.ts and workers.ts
// return; test/integration/api-responses.test.ts checks real responses of a running engine
// against them, so a field added to a view without its schema (or a schema that drifts) fails.
import type { SchemaRef } from './route-table.ts';
import { ALGORITHM_VERSION, VERSION_RESPONSES } from './version-schemas.ts';
import { WORKERS_SCHEMA } from './worker-schema.ts';

const JOB_STATUS = { enum: ['pending', 'active', 'completed', 'failed', 'stopped'] };
const NODE_STATUS = { enum: ['pending', 'active', 'succeeded', 'failed', 'skipped', 'stopped'] };
const TASK_STATUS = { enum: ['queued', 'active', 'succeeded', 'failed', 'stopped'] };
const ISO_TIME = { type: 'string', description: 'ISO 8601 time (UTC)' };
const EPOCH_MS = { type: 'number', description: 'epoch milliseconds' };
const COUNT = { type: 'integer', minimum: 0 };
const ANY = { description: 'any JSON value' };

const ORIGIN = {
  type: 'object',
  required: ['kind'],
  description: 'how the job started',
  properties: {
    kind: { enum: ['api', 'cli', 'trigger', 'cron', 's3', 'rerun', 'caching', 'pipeline', 'algorithm'] },
    parentJobId: { type: 'string' },
    triggerDepth: COUNT,
    parentTaskId: { type: 'string' },
    parentNode: { type: 'string' },
  },
};

const FAILURE = {
  type: 'object',
  required: ['type', 'message', 'retryable'],
  description: 'why a task failed: its type, one line, and whether another attempt can succeed',
  properties: {
    type: { type: 'string' },
    message: { type: 'string' },
    retryable: { type: 'boolean' },
    code: { type: 'string' },
    details: ANY,
  },
};

const LOGS = {
  type: 'object',
  required: ['stdout', 'stderr', 'truncated'],
  description: 'the tail of what the task wrote, line by line',
  properties: {
    stdout: { type: 'array', items: { type: 'string' } },
    stderr: { type: 'array', items: { type: 'string' } },
    truncated: { type: 'boolean' },
  },
};

export const JOB_STATUS_VIEW = {
  type: 'object',
  required: ['jobId', 'pipelineName', 'status', 'priority', 'createdAt', 'progress', 'tasks', 'nodes'],
  properties: {
    jobId: { type: 'string' },
    pipelineName: { type: 'string' },
    status: JOB_STATUS,
    paused: { type: 'boolean' },
    reason: { type: 'string', description: 'why the job failed or was stopped' },
    priority: { type: 'integer' },
    createdAt: ISO_TIME,
    startedAt: ISO_TIME,
    finishedAt: ISO_TIME,
    progress: { type: 'integer', minimum: 0, maximum: 100, description: 'percent of its tasks that ran' },
    tasks: {
      type: 'object',
      required: ['created', 'remaining', 'queued', 'running', 'succeeded', 'failed', 'stopped', 'retried'],
      properties: Object.fromEntries(
        ['created', 'remaining', 'queued', 'running', 'succeeded', 'failed', 'stopped', 'retried'].map(
          (k) => [k, COUNT],
        ),
      ),
    },
    nodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['nodeName', 'status', 'batch', 'total', 'succeeded', 'failed', 'stopped', 'retried'],
        properties: {
          nodeName: { type: 'string' },
          status: NODE_STATUS,
          batch: { type: 'boolean' },
          total: COUNT,
          succeeded: COUNT,
          failed: COUNT,
          stopped: COUNT,
          retried: COUNT,
          queued: COUNT,
          running: COUNT,
          reason: { type: 'string' },
          algorithmVersion: {
            type: 'string',
            description: 'the version of its algorithm the node runs (recorded when the job started)',
          },
          children: {
            type: 'array',
            description: 'jobs the node’s tasks started (code API) or ran (pipeline nodes)',
            items: { type: 'object', required: ['jobId'], properties: { jobId: { type: 'string' } } },
          },
        },
      },
    },
    origin: ORIGIN,
  },
};

const ITEM_RESULT = {
  type: 'object',
  required: ['nodeName'],
  properties: {
    nodeName: { type: 'string' },
    batchIndex: { type: 'integer', minimum: 1 },
    algorithmName: { type: 'string' },
    result: ANY,
    error: { type: 'string' },
    status: { type: 'string' },
  },
};

export const JOB_RESULTS = {
  type: 'object',
  required: ['jobId', 'pipelineName', 'status', 'data'],
  properties: {
    jobId: { type: 'string' },
    pipelineName: { type: 'string' },
    status: JOB_STATUS,
    error: { type: 'string', description: 'why the job failed or was stopped' },
    timestamp: ISO_TIME,
    data: {
      description: 'the outputs of the sink (or output) nodes; null until the job ended',
      oneOf: [{ type: 'array', items: ITEM_RESULT }, { type: 'null' }],
    },
  },
};

const TASK_RECORD = {
  type: 'object',
  required: [
    'taskId',
    'jobId',
    'nodeName',
    'algorithmName',
    'pipelineName',
    'priority',
    'queuedAt',
    'status',
    'attempts',
  ],
  properties: {
    taskId: { type: 'string' },
    jobId: { type: 'string' },
    nodeName: { type: 'string' },
    batchIndex: { type: 'integer', minimum: 1 },
    algorithmName: { type: 'string' },
    pipelineName: { type: 'string' },
    priority: { type: 'integer' },
    input: { type: 'array', description: 'absent (with result and logs) when asked with values=false' },
    queuedAt: EPOCH_MS,
    status: TASK_STATUS,
    attempts: COUNT,
    result: ANY,
    error: { type: 'string', description: 'the failure as text, with traces' },
    failure: FAILURE,
    logs: LOGS,
    startedAt: EPOCH_MS,
    finishedAt: EPOCH_MS,
  },
};

const JOB_SUMMARY = {
  type: 'object',
  required: ['jobId', 'pipelineName', 'status', 'priority', 'createdAt'],
  properties: {
    jobId: { type: 'string' },
    pipelineName: { type: 'string' },
    status: JOB_STATUS,
    priority: { type: 'integer' },
    createdAt: ISO_TIME,
    finishedAt: ISO_TIME,
    reason: { type: 'string' },
  },
};

const JOB_TREE: object = {
  type: 'object',
  required: ['jobId', 'pipelineName', 'status', 'createdAt', 'children'],
  properties: {
    jobId: { type: 'string' },
    pipelineName: { type: 'string' },
    status: JOB_STATUS,
    createdAt: ISO_TIME,
    origin: ORIGIN,
    children: { type: 'array', items: { $ref: '#/components/schemas/JobTree' } },
  },
};

const NAMED_TREE: object = {
  type: 'object',
  required: ['name', 'children'],
  properties: {
    name: { type: 'string', description: 'a stored pipeline' },
    children: { type: 'array', items: { $ref: '#/components/schemas/TriggerTree' } },
  },
};

const CRON_ENTRY = {
  type: 'object',
  required: ['name', 'enabled'],
  properties: {
    name: { type: 'string' },
    pattern: { type: 'string' },
    enabled: { type: 'boolean' },
    timeZone: { type: 'string', description: 'IANA time zone of the pattern, when the pipeline names one' },
    nextRun: { ...ISO_TIME, description: 'when it fires next (where a scheduler runs)' },
  },
};

const WEBHOOK_DELIVERY = {
  type: 'object',
  required: ['id', 'jobId', 'kind', 'url', 'status', 'attempts', 'payload', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'integer' },
    jobId: { type: 'string' },
    kind: { enum: ['progress', 'result'] },
    url: { type: 'string' },
    status: { enum: ['pending', 'delivered', 'failed'] },
    attempts: COUNT,
    responseStatus: { type: 'integer' },
    error: { type: 'string' },
    payload: ANY,
    createdAt: EPOCH_MS,
    updatedAt: EPOCH_MS,
  },
};

const DYNAMIC_TASK_STATE = {
  type: 'object',
  required: ['taskId', 'status', 'attempts'],
  properties: {
    taskId: { type: 'string' },
    status: TASK_STATUS,
    attempts: COUNT,
    result: ANY,
    error: { type: 'string' },
    failure: FAILURE,
    startedAt: EPOCH_MS,
    finishedAt: EPOCH_MS,
  },
};

/** Schemas the document lists under components/schemas (they refer to themselves). */
export const RESPONSE_COMPONENTS = {
  AlgorithmVersion: ALGORITHM_VERSION,
  JobStatus: JOB_STATUS_VIEW,
  JobResults: JOB_RESULTS,
  Task: TASK_RECORD,
  JobSummary: JOB_SUMMARY,
  JobTree: JOB_TREE,
  TriggerTree: NAMED_TREE,
  WebhookDelivery: WEBHOOK_DELIVERY,
};

const arrayOf = (ref: keyof typeof RESPONSE_COMPONENTS): SchemaRef => ({
  schema: { type: 'array', items: { $ref: `#/components/schemas/${ref}` } },
});

export const RESPONSES = {
  status: { ref: 'JobStatus' },
  results: { ref: 'JobResults' },
  tasks: arrayOf('Task'),
  jobs: arrayOf('JobSummary'),
  statuses: arrayOf('JobStatus'),
  resultsList: arrayOf('JobResults'),
  search: {
    schema: {
      type: 'object',
      required: ['hits'],
      properties: {
        hits: { type: 'array', items: { $ref: '#/components/schemas/JobSummary' } },
        cursor: { type: 'string', description: 'pass as `cursor` for the next page; absent on the last' },
      },
    },
  },
  tree: { ref: 'JobTree' },
  triggerTree: arrayOf('TriggerTree'),
  webhooks: arrayOf('WebhookDelivery'),
  stop: {
    schema: {
      type: 'object',
      description: 'one job: {jobId, status, reason}; filters: {stopped: [{jobId, status}], reason}',
      properties: {
        jobId: { type: 'string' },
        status: JOB_STATUS,
        reason: { type: 'string' },
        stopped: {
          type: 'array',
          items: {
            type: 'object',
            required: ['jobId', 'status'],
            properties: { jobId: { type: 'string' }, status: JOB_STATUS },
          },
        },
      },
    },
  },
  deleted: {
    schema: {
      type: 'object',
      required: ['name', 'deleted'],
      properties: { name: { type: 'string' }, deleted: { const: true } },
    },
  },
  cronList: { schema: { type: 'array', items: CRON_ENTRY } },
  cronEntry: { schema: CRON_ENTRY },
  pipelines: { schema: { type: 'array', items: { $ref: '#/components/schemas/Pipeline' } } },
  algorithms: { schema: { type: 'array', items: { $ref: '#/components/schemas/Algorithm' } } },
  ...VERSION_RESPONSES,
  openapi: {
    schema: {
      type: 'object',
      required: ['openapi', 'info', 'paths'],
      description: 'an OpenAPI 3.1 document',
    },
  },
  workers: { schema: WORKERS_SCHEMA },
  dynamicStarted: {
    schema: {
      type: 'object',
      required: ['jobId', 'status'],
      properties: { jobId: { type: 'string' }, status: JOB_STATUS },
    },
  },
  dynamicAdded: {
    schema: {
      type: 'object',
      required: ['jobId', 'tasks'],
      properties: {
        jobId: { type: 'string' },
        tasks: {
          type: 'array',
          items: {
            type: 'object',
            required: ['key', 'taskId', 'batchIndex', 'added'],
            properties: {
              key: { type: 'string' },
              taskId: { type: 'string' },
              batchIndex: { type: 'integer' },
              added: { type: 'boolean', description: 'false: the key existed, nothing was added' },
            },
          },
        },
      },
    },
  },
  dynamicFinished: {
    schema: {
      type: 'object',
      required: ['jobId', 'tasks'],
      properties: { jobId: { type: 'string' }, tasks: { type: 'array', items: DYNAMIC_TASK_STATE } },
    },
  },
  dynamicClosed: {
    schema: {
      type: 'object',
      required: ['jobId', 'status'],
      properties: { jobId: { type: 'string' }, status: JOB_STATUS, reason: { type: 'string' } },
    },
  },
} satisfies Record<string, SchemaRef>;
