// Lambda `api`: a thin middy shell over shared/adapters/aws/handlers/api.ts.
import middy from '@middy/core';
import { createApiHandler } from '../shared/adapters/aws/handlers/api.ts';
import { engineFromEnv } from '../shared/adapters/aws/handlers/engine-from-env.ts';

// Submissions return at once; the expand function creates the tasks (deferExpansion).
export const handler = middy(createApiHandler(engineFromEnv(process.env, { deferExpansion: true })));
