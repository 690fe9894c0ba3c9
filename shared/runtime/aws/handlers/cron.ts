// cron: a schedule of the stack's EventBridge Scheduler group runs a stored pipeline
// (engine/cron-firing.ts). Each schedule SchedulerCron keeps passes {"sluiceCron": {"pipelineName"}}.
import type { CronEventInput } from '../../../adapters/aws/scheduler-cron.ts';
import type { CronFiring } from '../../../engine/cron-firing.ts';
import type { AwsEngine } from '../aws-engine.ts';

export function createCronHandler(engine: () => AwsEngine) {
  return async (
    event: CronEventInput | Record<string, unknown>,
  ): Promise<Partial<{ jobId: string; skipped: string }>> => {
    const name = (event as Partial<CronEventInput>).sluiceCron?.pipelineName;
    if (typeof name !== 'string' || !name)
      return { skipped: 'not a Sluice cron event (no sluiceCron.pipelineName)' };
    const e = engine();
    const fired: CronFiring = await e.engine.fireCron(name);
    await e.notifier.drain();
    return fired;
  };
}
