// Lambda `status`: a thin middy shell over shared/runtime/aws/handlers/status.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';
import { createStatusHandler } from '../shared/runtime/aws/handlers/status.ts';

export const handler = middy(createStatusHandler(engineFromEnv()));
