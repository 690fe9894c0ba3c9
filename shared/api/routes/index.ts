// Every area's routes, registered on import. A new area adds its file here (one line).
import './exec-routes.ts';
import './job-query-routes.ts';
import './task-log-routes.ts';
import './store-routes.ts';
import './version-routes.ts';
import './trigger-routes.ts';
import './docs-routes.ts';
import './dynamic-routes.ts';
import './event-routes.ts';
import './worker-routes.ts';
import './debug-routes.ts';
