// Lambda `cron`: a thin middy shell over shared/runtime/aws/handlers/cron.ts (each EventBridge
// Scheduler schedule of the stack's group calls it with {"sluiceCron": {"pipelineName"}}).
import middy from '@middy/core';
import { createCronHandler } from '../shared/runtime/aws/handlers/cron.ts';
import { engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';

export const handler = middy(createCronHandler(engineFromEnv()));
