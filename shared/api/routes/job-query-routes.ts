// Routes that read many jobs: listings, search, the trigger tree, and the latest runs of a stored
// pipeline or of its cron trigger.
import * as q from '../job-queries.ts';
import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';

const STATUS = 'pending, active, completed, failed or stopped';

route({
  method: 'GET',
  path: '/exec/jobs',
  summary: 'Jobs, newest first',
  query: {
    status: STATUS,
    pipelineName: 'only jobs of this pipeline',
    limit: 'at most this many (1–10000, default 100)',
  },
  response: RESPONSES.jobs,
  handler: (d, r) => q.jobs(d, r.query),
});
route({
  method: 'GET',
  path: '/exec/search',
  summary: 'Jobs matching filters, sorted by creation time, a page at a time: {hits, cursor?}',
  query: {
    pipelineName: 'only jobs of this pipeline',
    status: STATUS,
    from: 'created at or after (ISO date or epoch ms)',
    to: 'created at or before (ISO date or epoch ms)',
    sort: 'asc or desc (default desc: newest first)',
    limit: 'page size (1–1000, default 100)',
    cursor: 'the cursor of the previous page',
  },
  response: RESPONSES.search,
  handler: (d, r) => q.search(d, r.query),
});
route({
  method: 'GET',
  path: '/exec/tree/{jobId}',
  summary:
    'The tree of jobs started by pipeline triggers and pipeline nodes, from the root of this job’s chain',
  response: RESPONSES.tree,
  handler: (d, _r, p) => q.tree(d, p.jobId as string),
});
const LATEST = {
  limit: 'how many runs, newest first (1–100, default 1)',
  status: `only runs in this status (${STATUS})`,
};
route({
  method: 'GET',
  path: '/pipelines/results/{name}',
  summary: 'Results of the latest runs of a pipeline',
  query: LATEST,
  response: RESPONSES.resultsList,
  handler: (d, r, p) => q.latestRuns(d, p.name as string, r.query, 'results', false),
});
route({
  method: 'GET',
  path: '/pipelines/status/{name}',
  summary: 'Status of the latest runs of a pipeline',
  query: LATEST,
  response: RESPONSES.statuses,
  handler: (d, r, p) => q.latestRuns(d, p.name as string, r.query, 'status', false),
});
route({
  method: 'GET',
  path: '/cron/results/{name}',
  summary: 'Results of the latest runs a pipeline’s cron trigger started',
  query: LATEST,
  response: RESPONSES.resultsList,
  handler: (d, r, p) => q.latestRuns(d, p.name as string, r.query, 'results', true),
});
route({
  method: 'GET',
  path: '/cron/status/{name}',
  summary: 'Status of the latest runs a pipeline’s cron trigger started',
  query: LATEST,
  response: RESPONSES.statuses,
  handler: (d, r, p) => q.latestRuns(d, p.name as string, r.query, 'status', true),
});
