// Routes of debug sessions: `sluice debug ALGORITHM` runs that algorithm's debug-node tasks on the
// developer's machine while the rest of the pipeline runs on the engine.
import * as dbg from '../debug.ts';
import { route } from '../route-table.ts';

const session = { sessionId: { type: 'string' } };

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
  handler: (d, r) => dbg.leaseDebugTask(d, r.body),
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
  handler: (d, r) => dbg.reportDebugTask(d, r.body),
});
route({
  method: 'POST',
  path: '/debug/detach',
  summary: 'End the session: the tasks it had not finished go back to the normal workers',
  body: {
    schema: { type: 'object', required: ['sessionId'], additionalProperties: false, properties: session },
  },
  handler: (d, r) => dbg.detachDebug(d, r.body),
});
route({
  method: 'GET',
  path: '/debug',
  summary: 'The attached debug sessions',
  handler: (d) => dbg.listDebug(d),
});
