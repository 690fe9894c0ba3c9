// cron: a scheduled event runs a stored pipeline (engine/cron-firing.ts). The EventBridge rules
// EventBridgeCron manages pass {"sluiceCron": {"pipelineName"}}; a plain ScheduledEvent is matched
// by its rule's name.
import type { ScheduledEvent } from 'aws-lambda';
import { type CronEventInput, ruleName } from '../../../adapters/aws/eventbridge-cron.ts';
import type { CronFiring } from '../../../engine/cron-firing.ts';
import type { AwsEngine } from '../aws-engine.ts';

export function createCronHandler(engine: () => AwsEngine, opts: { rulePrefix?: string } = {}) {
  return async (
    event: CronEventInput | ScheduledEvent,
  ): Promise<Partial<{ jobId: string; skipped: string }>> => {
    const e = engine();
    let name: string | undefined;
    if ('sluiceCron' in event) name = event.sluiceCron.pipelineName;
    else {
      const rule = (event.resources ?? []).map((arn) => arn.split('/').pop() ?? '')[0];
      const prefix = opts.rulePrefix ?? 'sluice-cron-';
      for (const p of await e.registry.listPipelines())
        if (rule && ruleName(prefix, p.name) === rule) name = p.name;
    }
    if (!name) return { skipped: 'no pipeline for this scheduled event' };
    const fired: CronFiring = await e.engine.fireCron(name);
    await e.notifier.drain();
    return fired;
  };
}
