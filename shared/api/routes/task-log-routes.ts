// Routes of a job's task logs: each task's captured stdout and stderr.
import { route } from '../route-table.ts';
import { taskLogs } from '../task-logs.ts';

export const TASK_LOG = {
  type: 'object',
  required: ['taskId', 'nodeName', 'status', 'stdout', 'stderr', 'truncated'],
  properties: {
    taskId: { type: 'string' },
    nodeName: { type: 'string' },
    batchIndex: {
      type: 'integer',
      minimum: 1,
      description: 'the batch item (1-based); absent for a single task',
    },
    status: { type: 'string', enum: ['queued', 'active', 'succeeded', 'failed', 'stopped'] },
    stdout: { type: 'string', description: 'the tail of what the task wrote on stdout' },
    stderr: { type: 'string', description: 'the tail of what the task wrote on stderr' },
    truncated: { type: 'boolean', description: 'earlier output was dropped (only the tail is kept)' },
  },
};

route({
  method: 'GET',
  path: '/exec/logs/{jobId}',
  summary: 'Each task’s captured stdout and stderr (the tails kept per task), ordered by node and item',
  query: {
    node: 'only the tasks of this node',
    item: 'only this batch item (batchIndex, from 1)',
    status: 'only tasks with this status (queued, active, succeeded, failed, stopped)',
  },
  response: {
    schema: {
      type: 'object',
      required: ['jobId', 'tasks'],
      properties: { jobId: { type: 'string' }, tasks: { type: 'array', items: TASK_LOG } },
    },
  },
  handler: (d, r, p) =>
    taskLogs(d, p.jobId as string, { node: r.query.node, item: r.query.item, status: r.query.status }),
});
