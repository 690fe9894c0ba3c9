// Lambda `expand`: a thin middy shell over shared/adapters/aws/handlers/expand.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/adapters/aws/handlers/engine-from-env.ts';
import { createExpandHandler } from '../shared/adapters/aws/handlers/expand.ts';

export const handler = middy(createExpandHandler(engineFromEnv()));
