// Lambda `s3-trigger`: a thin middy shell over shared/adapters/aws/handlers/s3-trigger.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/adapters/aws/handlers/engine-from-env.ts';
import { createS3TriggerHandler } from '../shared/adapters/aws/handlers/s3-trigger.ts';

export const handler = middy(createS3TriggerHandler(engineFromEnv()));
