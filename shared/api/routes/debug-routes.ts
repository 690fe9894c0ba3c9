// Routes of debug sessions: `sluice debug ALGORITHM` runs that algorithm's debug-node tasks on the
// developer's machine while the rest of the pipeline runs on the engine.
import * as dbg from '../debug.ts';
import { route } from '../route-table.ts';

const session = { sessionId: { type: 'string' } };

const SESSION_VIEW = {
  type: 'object',
  required: ['sessionId', 'algorithmName', 'attachedAt', 'running', 'waiting'],
  properties: {
    sessionId: { type: 'string' },
    algorithmName: { type: 'string' },
    attachedAt: { type: 'string', description: 'ISO 8601 time (UTC)' },
    running: { type: 'array', items: { type: 'string' }, description: 'task ids handed to the session' },
    waiting: { type: 'integer', minimum: 0, description: 'tasks waiting for the session to ask' },
  },
};
const DEBUG_TASK = {
  type: ['object', 'null'],
  required: ['info', 'algorithmName', 'input'],
  properties: {
    info: {
      type: 'object',
      required: ['jobId', 'taskId', 'nodeName', 'pipelineName'],
      properties: {
        jobId: { type: 'string' },
        taskId: { type: 'string' },
        nodeName: { type: 'string' },
        batchIndex: { type: 'integer' },
        pipelineName: { type: 'string' },
        extraData: {},
      },
    },
    algorithmName: { type: 'string' },
    input: { type: 'array' },
  },
};

route({
  method: 'POST',
  path: '/debug/attach',
  status: 201,
  summary:
    'Attach a debug session to an algorithm: the tasks of its debug nodes (kind debug, options.debugOverride) go to the session instead of the workers',
  body: {
    schema: {
      type: 'object',
      required: ['algorithmName'],
      additionalProperties: false,
      properties: { algorithmName: { type: 'string' } },
    },
  },
  response: { schema: SESSION_VIEW },
  handler: (d, r) => dbg.attachDebug(d, r.body),
});
route({
  method: 'POST',
  path: '/debug/lease',
  summary: 'The next task for the session ({task: null} if none came within waitMs)',
  body: {
    schema: {
      type: 'object',
      required: ['sessionId'],
      additionalProperties: false,
      properties: { ...session, waitMs: { type: 'integer', minimum: 0, maximum: dbg.MAX_DEBUG_WAIT_MS } },
    },
  },
  response: { schema: { type: 'object', required: ['task'], properties: { task: DEBUG_TASK } } },
  handler: (d, r) => dbg.leaseDebugTask(d, r.body),
});
route({
  method: 'POST',
  path: '/debug/keepalive',
  summary:
    'Keep the session attached while its client runs a task (a session that asks nothing for 30 s is detached)',
  body: {
    schema: { type: 'object', required: ['sessionId'], additionalProperties: false, properties: session },
  },
  response: {
    schema: {
      type: 'object',
      required: ['sessionId', 'attached'],
      properties: { sessionId: { type: 'string' }, attached: { type: 'boolean' } },
    },
  },
  handler: (d, r) => dbg.keepDebugSession(d, r.body),
});
route({
  method: 'POST',
  path: '/debug/report',
  summary: 'The outcome of a task the session leased: its result, or an error',
  body: {
    schema: {
      type: 'object',
      required: ['sessionId', 'taskId'],
      additionalProperties: false,
      properties: { ...session, taskId: { type: 'string' }, result: {}, error: { type: 'string' } },
    },
  },
  response: {
    schema: {
      type: 'object',
      required: ['taskId', 'accepted'],
      properties: { taskId: { type: 'string' }, accepted: { type: 'boolean' } },
    },
  },
  handler: (d, r) => dbg.reportDebugTask(d, r.body),
});
route({
  method: 'POST',
  path: '/debug/detach',
  summary: 'End the session: the tasks it had not finished go back to the normal workers',
  body: {
    schema: { type: 'object', required: ['sessionId'], additionalProperties: false, properties: session },
  },
  response: {
    schema: {
      type: 'object',
      required: ['sessionId', 'detached', 'returned'],
      properties: {
        sessionId: { type: 'string' },
        detached: { type: 'boolean' },
        returned: { type: 'integer', minimum: 0, description: 'unfinished tasks given back to the workers' },
      },
    },
  },
  handler: (d, r) => dbg.detachDebug(d, r.body),
});
route({
  method: 'GET',
  path: '/debug',
  summary: 'The attached debug sessions',
  response: { schema: { type: 'array', items: SESSION_VIEW } },
  handler: (d) => dbg.listDebug(d),
});
