// Lambda `dispatch`: the scheduler's periodic tick (ttl, stuck-job sweep, priority aging, worker
// fleet size); a thin middy shell over shared/adapters/aws/handlers/dispatch.ts.
import middy from '@middy/core';
import { createDispatchHandler } from '../shared/adapters/aws/handlers/dispatch.ts';
import { engineFromEnv, launcherFromEnv } from '../shared/adapters/aws/handlers/engine-from-env.ts';

export const handler = middy(createDispatchHandler(engineFromEnv(), launcherFromEnv()));
