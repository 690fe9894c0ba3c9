// Routes of HKube's /exec/* API: start, stop, re-run and read jobs.
import * as exec from '../exec.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';
import { findTasks, TASK_PAGE_MAX } from '../task-logs.ts';

const JOB_ID = {
  type: 'object',
  required: ['jobId'],
  additionalProperties: false,
  properties: { jobId: { type: 'string', minLength: 1 } },
};
const STARTED = {
  schema: {
    type: 'object',
    required: ['jobId', 'status'],
    properties: { jobId: { type: 'string' }, status: { type: 'string' } },
  },
};

route({
  method: 'POST',
  path: '/exec/raw',
  status: 201,
  summary: 'Run a pipeline descriptor',
  body: { ref: 'Pipeline' },
  response: STARTED,
  handler: (d, r) => exec.execRaw(d, r.body),
});
route({
  method: 'POST',
  path: '/exec/stored',
  status: 201,
  summary: 'Run a stored pipeline (flowInput replaces the stored one, options merge over it)',
  body: {
    schema: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string' },
        flowInput: { type: 'object' },
        options: { type: 'object' },
        priority: { type: 'integer', minimum: 1, maximum: 5 },
        webhooks: { type: 'object' },
        tags: { type: 'array', items: { type: 'string' } },
      },
    },
  },
  response: STARTED,
  handler: (d, r) => exec.execStored(d, r.body),
});
const TIME = {
  oneOf: [
    { type: 'string', minLength: 1 },
    { type: 'integer', minimum: 0 },
  ],
};
route({
  method: 'POST',
  path: '/exec/stop',
  summary:
    'Stop a job (jobId), or every unfinished job matching pipelineName, status and startTime {from, to}; every unfinished task of them is stopped',
  body: {
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        jobId: { type: 'string', minLength: 1 },
        pipelineName: { type: 'string', minLength: 1 },
        status: { enum: ['pending', 'active'] },
        startTime: {
          type: 'object',
          additionalProperties: false,
          description: 'creation time range: ISO dates or epoch milliseconds',
          properties: { from: TIME, to: TIME },
        },
        reason: { type: 'string' },
      },
    },
  },
  response: RESPONSES.stop,
  handler: (d, r) => exec.stop(d, r.body),
});
for (const [action, paused] of [
  ['pause', true],
  ['resume', false],
] as const) {
  route({
    method: 'POST',
    path: `/exec/${action}`,
    summary: paused
      ? 'Pause a job: no new task of it starts; running tasks finish (409 if it already ended)'
      : 'Resume a paused job (409 if it already ended)',
    body: { schema: JOB_ID },
    response: {
      schema: {
        type: 'object',
        properties: { jobId: { type: 'string' }, status: { type: 'string' }, paused: { type: 'boolean' } },
      },
    },
    handler: (d, r) => exec.setPaused(d, r.body, paused),
  });
}
route({
  method: 'POST',
  path: '/exec/algorithm',
  status: 201,
  summary: 'Run one algorithm as a one-node job (the node is named after the algorithm)',
  body: {
    schema: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        input: { type: 'array' },
        flowInput: { type: 'object' },
        options: { type: 'object' },
        priority: { type: 'integer', minimum: 1, maximum: 5 },
      },
    },
  },
  response: STARTED,
  handler: (d, r) => exec.execAlgorithm(d, r.body),
});
route({
  method: 'POST',
  path: '/exec/caching',
  status: 201,
  summary: 'Run a node and its descendants again, reusing the other nodes’ stored outputs',
  body: {
    schema: {
      type: 'object',
      required: ['jobId', 'nodeName'],
      additionalProperties: false,
      properties: { jobId: { type: 'string', minLength: 1 }, nodeName: { type: 'string', minLength: 1 } },
    },
  },
  response: STARTED,
  handler: (d, r) => exec.caching(d, r.body),
});
route({
  method: 'POST',
  path: '/exec/rerun',
  status: 201,
  summary: 'Run the same descriptor again',
  body: { schema: JOB_ID },
  response: STARTED,
  handler: (d, r) => exec.rerun(d, r.body),
});
route({
  method: 'GET',
  path: '/exec/status/{jobId}',
  summary: 'A job’s status, per-node counts and progress',
  response: RESPONSES.status,
  handler: (d, _r, p) => exec.status(d, p.jobId as string),
});
route({
  method: 'GET',
  path: '/exec/results/{jobId}',
  summary: 'A finished job’s results',
  response: RESPONSES.results,
  handler: (d, _r, p) => exec.results(d, p.jobId as string),
});
route({
  method: 'GET',
  path: '/exec/pipelines/{jobId}',
  summary: 'The descriptor a job ran',
  response: { ref: 'Pipeline' },
  handler: (d, _r, p) => exec.executedPipeline(d, p.jobId as string),
});
route({
  method: 'GET',
  path: '/exec/tasks/{jobId}',
  summary: 'A job’s task records (input, status, result, error, failure, logs), ordered by node and item',
  query: {
    nodeName: 'only the tasks of this node',
    item: 'only this batch item (batchIndex, from 1)',
    status: 'only tasks with this status (queued, active, succeeded, failed, stopped)',
    limit: `with nodeName: a page of at most this many tasks (1 to ${TASK_PAGE_MAX}), in batchIndex order`,
    after:
      'with nodeName: only tasks after this batchIndex (the last of the previous page; a shorter page is the last)',
    values: '`false`: leave out input, result and logs (a table’s rows)',
  },
  response: RESPONSES.tasks,
  handler: (d, r, p) =>
    findTasks(d, p.jobId as string, {
      node: r.query.nodeName,
      item: r.query.item,
      status: r.query.status,
      limit: r.query.limit,
      after: r.query.after,
      values: r.query.values,
    }),
});
