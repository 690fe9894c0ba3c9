// Lambda `s3-trigger`: a thin middy shell over shared/runtime/aws/handlers/s3-trigger.ts. S3
// notifications of the trigger bucket reach it through the trigger queue (SQS, with a DLQ).
import middy from '@middy/core';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';
import { createS3TriggerQueueHandler } from '../shared/runtime/aws/handlers/s3-trigger.ts';

export const handler = middy(createS3TriggerQueueHandler(engineFromEnv()));
