// Lambda `cron`: a thin middy shell over shared/runtime/aws/handlers/cron.ts (EventBridge rules
// call it with {"sluiceCron": {"pipelineName"}}; a plain Scheduled Event is matched by rule name).
import middy from '@middy/core';
import { AWS_ENV } from '../shared/adapters/aws/config.ts';
import { createCronHandler } from '../shared/runtime/aws/handlers/cron.ts';
import { DEFAULT_CRON_RULE_PREFIX, engineFromEnv } from '../shared/runtime/aws/handlers/engine-from-env.ts';

export const handler = middy(
  createCronHandler(engineFromEnv(), {
    rulePrefix: process.env[AWS_ENV.cronRulePrefix] ?? DEFAULT_CRON_RULE_PREFIX,
  }),
);
