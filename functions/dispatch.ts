// Lambda `dispatch`: the scheduler's periodic tick (ttl, stuck-job sweep, priority aging, worker
// fleet size); a thin middy shell over shared/runtime/aws/handlers/dispatch.ts.
import middy from '@middy/core';
import { createDispatchHandler } from '../shared/runtime/aws/handlers/dispatch.ts';
import {
  algorithmImagesFromEnv,
  engineFromEnv,
  launcherFromEnv,
} from '../shared/runtime/aws/handlers/engine-from-env.ts';

export const handler = middy(
  createDispatchHandler(engineFromEnv(), launcherFromEnv(), algorithmImagesFromEnv()),
);
