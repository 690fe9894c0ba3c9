// The JSON Schema of `GET /workers` (api/workers.ts): what the engine's workers run, and on AWS
// one line per worker that reported lately (runtime/aws/worker-reports.ts).
const ISO_TIME = { type: 'string', description: 'ISO 8601 time (UTC)' };
const COUNT = { type: 'integer', minimum: 0 };

export const WORKERS_SCHEMA = {
  type: 'object',
  required: ['running', 'tasksDone', 'tasksFailed', 'tasksPerSecond', 'since'],
  properties: {
    slots: COUNT,
    running: {
      type: 'array',
      items: {
        type: 'object',
        required: ['taskId', 'jobId', 'nodeName', 'startedAt'],
        properties: {
          taskId: { type: 'string' },
          jobId: { type: 'string' },
          nodeName: { type: 'string' },
          batchIndex: { type: 'integer' },
          startedAt: ISO_TIME,
          workerId: { type: 'string', description: 'AWS: the worker running it' },
        },
      },
    },
    tasksDone: COUNT,
    tasksFailed: COUNT,
    tasksPerSecond: { type: 'number', minimum: 0, description: 'over the last 10 s' },
    ioBytes: {
      ...COUNT,
      description: 'bytes the built-in IO tasks (cp, zip, rm, fetch) reported as they ended',
    },
    ioBytesPerSecond: { type: 'number', minimum: 0, description: 'ioBytes over the last 10 s' },
    since: ISO_TIME,
    workers: {
      type: 'array',
      description: 'AWS: each worker that reported in the last 30 s (the totals above add them up)',
      items: {
        type: 'object',
        required: ['workerId', 'running', 'tasksDone', 'tasksFailed', 'tasksPerSecond', 'updatedAt'],
        properties: {
          workerId: { type: 'string' },
          slots: COUNT,
          running: COUNT,
          tasksDone: COUNT,
          tasksFailed: COUNT,
          tasksPerSecond: { type: 'number', minimum: 0 },
          ioBytesPerSecond: { type: 'number', minimum: 0 },
          updatedAt: ISO_TIME,
        },
      },
    },
  },
};
