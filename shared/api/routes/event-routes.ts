// The live event stream: what the dashboard and `sluice watch` follow instead of polling.
import { eventStream } from '../events.ts';
import { route } from '../route-table.ts';

route({
  method: 'GET',
  path: '/events',
  summary:
    'Live events as server-sent events: `job` (the job’s status view, as exec/status) and `task` ' +
    '(taskId, nodeName, batchIndex, status). Each has an id; send it back as Last-Event-ID to ' +
    'resume. A `reset` event means the events since that id are gone: reload, then follow. ' +
    '`sluice serve` keeps the stream open; on AWS each response is bounded (the changes of up to ' +
    '20 s, read from the job records; `retry:` says when to reconnect) and `task` followers get ' +
    '`reset` instead of task events.',
  query: {
    jobId: 'only the events of this job',
    types: 'only these event types, comma-separated (job, task)',
    lastEventId: 'resume after this event id (as the Last-Event-ID header)',
  },
  contentType: 'text/event-stream',
  response: { schema: { type: 'string', description: 'text/event-stream' } },
  handler: (d, r) => eventStream(d, r),
});
