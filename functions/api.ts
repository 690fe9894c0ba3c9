// Lambda `api`: a thin middy shell over shared/runtime/aws/handlers/api.ts.
import middy from '@middy/core';
import { createApiHandler } from '../shared/runtime/aws/handlers/api.ts';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';

// Submissions return at once; the expand function creates the tasks (deferExpansion).
export const handler = middy(createApiHandler(engineFromEnv(process.env, { deferExpansion: true })));
