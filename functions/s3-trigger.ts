// Lambda `s3-trigger`: a thin middy shell over shared/runtime/aws/handlers/s3-trigger.ts.
import middy from '@middy/core';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';
import { createS3TriggerHandler } from '../shared/runtime/aws/handlers/s3-trigger.ts';

export const handler = middy(createS3TriggerHandler(engineFromEnv()));
