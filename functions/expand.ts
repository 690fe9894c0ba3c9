// Lambda `expand`: a thin middy shell over shared/runtime/aws/handlers/expand.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';
import { createExpandHandler } from '../shared/runtime/aws/handlers/expand.ts';

export const handler = middy(createExpandHandler(engineFromEnv()));
