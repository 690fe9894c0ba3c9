// Worker activity: the dashboard's workers page.

import { RESPONSES } from '../response-schemas.ts';
import { route } from '../route-table.ts';
import { workers } from '../workers.ts';

route({
  method: 'GET',
  path: '/workers',
  summary:
    'What the engine’s workers run now: slots, running tasks (job, node, item, start), tasks done ' +
    'and failed since the engine started, tasks/s over the last 10 s, bytes the built-in IO tasks moved',
  response: RESPONSES.workers,
  handler: (d) => workers(d),
});
