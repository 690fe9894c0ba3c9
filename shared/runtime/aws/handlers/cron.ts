// cron: a schedule of the stack's EventBridge Scheduler group runs a stored pipeline
// (engine/cron-firing.ts). Each schedule SchedulerCron keeps passes {"sluiceCron": {"pipelineName",
// "scheduledTime"}}; the scheduled time makes a repeated delivery of one firing start nothing.
import type { CronEventInput } from '../../../adapters/aws/scheduler-cron.ts';
import type { CronFiring } from '../../../engine/cron-firing.ts';
import type { AwsEngine } from '../aws-engine.ts';

export function createCronHandler(engine: () => AwsEngine) {
  return async (
    event: CronEventInput | Record<string, unknown>,
  ): Promise<Partial<{ jobId: string; duplicate: true; skipped: string }>> => {
    const cron = (event as Partial<CronEventInput>).sluiceCron;
    const name = cron?.pipelineName;
    if (typeof name !== 'string' || !name)
      return { skipped: 'not a Sluice cron event (no sluiceCron.pipelineName)' };
    const e = engine();
    // An unfilled attribute (a test event, a console "send test") names no firing.
    const at = cron?.scheduledTime;
    const scheduledTime = at && !at.startsWith('<') ? at : undefined;
    const fired: CronFiring = await e.engine.fireCron(name, scheduledTime ? { scheduledTime } : {});
    await e.notifier.drain();
    return fired;
  };
}
