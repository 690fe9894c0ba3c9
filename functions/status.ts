// Lambda `status`: a thin middy shell over shared/adapters/aws/handlers/status.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/adapters/aws/handlers/engine-from-env.ts';
import { createStatusHandler } from '../shared/adapters/aws/handlers/status.ts';

export const handler = middy(createStatusHandler(engineFromEnv()));
