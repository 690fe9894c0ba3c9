// Routes of dynamic jobs: a client (sluice make) adds tasks to a running job and closes it.
import * as dyn from '../exec-dynamic.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';

route({
  method: 'POST',
  path: '/exec/dynamic',
  status: 201,
  summary: 'Start a dynamic job: its tasks are added by the caller, it ends when the caller closes it',
  body: { ref: 'Pipeline' },
  response: RESPONSES.dynamicStarted,
  handler: (d, r) => dyn.startDynamic(d, r.body),
});
route({
  method: 'POST',
  path: '/exec/dynamic/{jobId}/tasks',
  summary: 'Add tasks to a node of a dynamic job (a known key returns the task added first)',
  body: {
    schema: {
      type: 'object',
      required: ['nodeName', 'tasks'],
      additionalProperties: false,
      properties: {
        nodeName: { type: 'string' },
        tasks: {
          type: 'array',
          maxItems: dyn.MAX_DYNAMIC_TASKS_PER_REQUEST,
          items: {
            type: 'object',
            required: ['key', 'input'],
            properties: { key: { type: 'string' }, input: { type: 'array' } },
          },
        },
      },
    },
  },
  response: RESPONSES.dynamicAdded,
  handler: (d, r, p) => dyn.addDynamicTasks(d, p.jobId as string, r.body),
});
route({
  method: 'POST',
  path: '/exec/dynamic/{jobId}/wait',
  summary: 'Wait until at least one of these tasks is finished; answers the finished ones',
  body: {
    schema: {
      type: 'object',
      required: ['taskIds'],
      additionalProperties: false,
      properties: {
        taskIds: {
          type: 'array',
          items: { type: 'string' },
          minItems: 1,
          maxItems: dyn.MAX_DYNAMIC_WAIT_TASKS,
        },
        timeoutMs: { type: 'integer', minimum: 0, maximum: dyn.MAX_DYNAMIC_WAIT_MS },
      },
    },
  },
  response: RESPONSES.dynamicFinished,
  // It reports outcomes as a GET of their tasks would: no sync of other writes to wait for.
  readOnly: true,
  handler: (d, r, p) => dyn.waitDynamicTasks(d, p.jobId as string, r.body),
});
route({
  method: 'POST',
  path: '/exec/dynamic/{jobId}/close',
  summary: 'Close a dynamic job: it finishes when its tasks are done (with `failed`, at once, failed)',
  body: {
    schema: { type: 'object', additionalProperties: false, properties: { failed: { type: 'string' } } },
  },
  response: RESPONSES.dynamicClosed,
  handler: (d, r, p) => dyn.closeDynamic(d, p.jobId as string, r.body),
});
