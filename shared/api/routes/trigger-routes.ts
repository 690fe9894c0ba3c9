// Routes of the trigger API: cron triggers, the pipeline trigger tree, webhook deliveries.
import { DEFAULT_CRON_PATTERN } from '../../pipeline/constants.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';
import * as triggers from '../triggers.ts';

route({
  method: 'GET',
  path: '/cron/list',
  summary: 'Cron triggers of stored pipelines (nextRun where a scheduler runs)',
  response: RESPONSES.cronList,
  handler: (d) => triggers.cronList(d),
});
route({
  method: 'POST',
  path: '/cron/start',
  summary: 'Enable a stored pipeline’s cron trigger',
  body: {
    schema: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: {
        name: { type: 'string', minLength: 1 },
        pattern: { type: 'string', minLength: 1, description: `default: HKube's ${DEFAULT_CRON_PATTERN}` },
      },
    },
  },
  response: RESPONSES.cronEntry,
  handler: (d, r) => triggers.cronSet(d, r.body, true),
});
route({
  method: 'POST',
  path: '/cron/stop',
  summary: 'Disable a stored pipeline’s cron trigger',
  body: {
    schema: {
      type: 'object',
      required: ['name'],
      additionalProperties: false,
      properties: { name: { type: 'string', minLength: 1 } },
    },
  },
  response: RESPONSES.cronEntry,
  handler: (d, r) => triggers.cronSet(d, r.body, false),
});
route({
  method: 'GET',
  path: '/pipelines/triggers/tree',
  summary: 'Which stored pipeline triggers which',
  response: RESPONSES.triggerTree,
  handler: (d) => triggers.triggersTree(d),
});
route({
  method: 'GET',
  path: '/webhooks/status/{jobId}',
  summary: 'Progress webhook deliveries of a job',
  response: RESPONSES.webhooks,
  handler: (d, _r, p) => triggers.webhooks(d, p.jobId as string, 'progress'),
});
route({
  method: 'GET',
  path: '/webhooks/results/{jobId}',
  summary: 'Result webhook deliveries of a job',
  response: RESPONSES.webhooks,
  handler: (d, _r, p) => triggers.webhooks(d, p.jobId as string, 'result'),
});
