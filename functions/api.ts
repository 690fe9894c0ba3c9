// Lambda `api`: a thin middy shell over shared/runtime/aws/handlers/api.ts.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import middy from '@middy/core';
import { createApiHandler } from '../shared/runtime/aws/handlers/api.ts';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';
import { dashboardIn } from '../shared/runtime/dashboard-assets.ts';

// Submissions return at once; the expand function creates the tasks (deferExpansion). The
// dashboard bundle is copied next to this file's bundle at synth (infra/stacks/scheduler-stack.ts).
export const handler = middy(
  createApiHandler(engineFromEnv(process.env, { deferExpansion: true }), {
    dashboard: dashboardIn(join(dirname(fileURLToPath(import.meta.url)), 'dashboard')),
  }),
);
