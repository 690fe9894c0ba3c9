// Cron triggers on AWS: one EventBridge Scheduler schedule per stored pipeline with an enabled cron
// trigger, in the schedule group the stack owns (deleting the stack deletes them), read in the
// trigger's time zone (UTC without one), retried and dead-lettered by Scheduler, invoking the cron
// function through the one role the stack lets Scheduler assume. `refresh` (called when stored
// pipelines change) creates, updates and deletes schedules to match the store: the changed
// pipelines' schedules are written, missing ones created and strays deleted; the others are left
// alone, so a store change costs a few calls however many cron triggers there are.
import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { Cron } from 'croner';
import type { CronControl } from '../../api/service.ts';
import { type CronTriggerView, listCronTriggers } from '../../engine/cron-triggers.ts';
import type { CronTrigger } from '../../pipeline/types.ts';
import type { Registry } from '../../ports/registry.ts';

/**
 * A Sluice/HKube cron pattern (5 fields, or 6 with seconds) as a Scheduler cron expression:
 * `cron(min hour day-of-month month day-of-week year)`. AWS wants `?` in one of the day fields and
 * numbers days of the week 1–7 from Sunday (cron: 0–6); seconds are dropped (a schedule fires at
 * most once a minute).
 */
export function toScheduleExpression(pattern: string): string {
  let f = pattern.trim().split(/\s+/);
  if (f.length === 6) f = f.slice(1);
  if (f.length !== 5) throw new Error(`cron pattern "${pattern}" must have 5 or 6 fields`);
  let [min, hour, dom, mon, dow] = f as [string, string, string, string, string];
  dow = dow.replace(/\d+/g, (d) => String((Number(d) % 7) + 1));
  if (dow === '*' || dow === '?') dow = '?';
  else if (dom === '*') dom = '?';
  if (dom !== '?' && dow !== '?') dow = '?';
  return `cron(${min} ${hour} ${dom} ${mon} ${dow} *)`;
}

/**
 * The schedule's name in the group: the pipeline name when Scheduler allows it (1–64 of
 * `[0-9A-Za-z-_.]`), else a cleaned prefix and a hash of the full name, so `a:b` and `a_b` never
 * share a schedule.
 */
export function scheduleName(pipelineName: string): string {
  if (/^[-_.A-Za-z0-9]{1,64}$/.test(pipelineName)) return pipelineName;
  const hash = createHash('sha256').update(pipelineName).digest('hex').slice(0, 8);
  return `${pipelineName.replace(/[^-_.A-Za-z0-9]/g, '_').slice(0, 55)}-${hash}`;
}

/**
 * What the schedule passes to the cron function (Scheduler sends `Input` as the event, with its
 * context attributes filled in: `scheduledTime` names the firing, the same on every retry).
 */
export interface CronEventInput {
  sluiceCron: { pipelineName: string; scheduledTime?: string };
}

/** Scheduler replaces this in a target's Input with the firing's scheduled time. */
export const SCHEDULED_TIME_ATTRIBUTE = '<aws.scheduler.scheduled-time>';

export interface SchedulerCronOptions {
  /** The schedule group the stack created (SLUICE_CRON_SCHEDULE_GROUP). */
  group: string;
  /** The cron function's ARN. */
  targetArn: string;
  /** The role Scheduler assumes to invoke the cron function (may do nothing else). */
  roleArn: string;
  /** Where Scheduler puts an event it could not deliver after its retries. */
  deadLetterArn: string;
  /** Delivery retries (default 3) within the event's age limit (default 1 h). */
  maximumRetryAttempts?: number;
  maximumEventAgeSeconds?: number;
}

export class SchedulerCron implements CronControl {
  constructor(
    private readonly scheduler: Pick<SchedulerClient, 'send'>,
    private readonly store: Pick<Registry, 'listPipelines'>,
    private readonly opts: SchedulerCronOptions,
  ) {}

  /** The CreateSchedule/UpdateSchedule request of one pipeline's trigger. */
  scheduleRequest(pipelineName: string, trigger: CronTrigger): CreateScheduleCommandInput {
    const input: CronEventInput = { sluiceCron: { pipelineName, scheduledTime: SCHEDULED_TIME_ATTRIBUTE } };
    return {
      Name: scheduleName(pipelineName),
      GroupName: this.opts.group,
      ScheduleExpression: toScheduleExpression(trigger.pattern),
      ScheduleExpressionTimezone: trigger.timeZone ?? 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Description: `Sluice cron trigger of pipeline ${pipelineName} (${trigger.pattern})`.slice(0, 512),
      Target: {
        Arn: this.opts.targetArn,
        RoleArn: this.opts.roleArn,
        Input: JSON.stringify(input),
        RetryPolicy: {
          MaximumRetryAttempts: this.opts.maximumRetryAttempts ?? 3,
          MaximumEventAgeInSeconds: this.opts.maximumEventAgeSeconds ?? 3600,
        },
        DeadLetterConfig: { Arn: this.opts.deadLetterArn },
      },
    };
  }

  async refresh(changed?: string[]): Promise<void> {
    const rewrite = changed ? new Set(changed.map(scheduleName)) : undefined;
    const wanted = new Map<string, CreateScheduleCommandInput>();
    for (const p of await this.store.listPipelines()) {
      const c = p.triggers?.cron;
      if (c?.enabled && c.pattern) wanted.set(scheduleName(p.name), this.scheduleRequest(p.name, c));
    }
    const existing = await this.listNames();
    for (const name of existing) {
      if (wanted.has(name)) continue;
      await this.scheduler
        .send(new DeleteScheduleCommand({ Name: name, GroupName: this.opts.group }))
        .catch(ignore(ResourceNotFoundException));
    }
    for (const [name, request] of wanted) {
      // Another refresh may create or delete it meanwhile: each call falls back to the other.
      if (existing.has(name)) {
        if (rewrite && !rewrite.has(name)) continue;
        await this.scheduler
          .send(new UpdateScheduleCommand(request))
          .catch(
            orElse(ResourceNotFoundException, () => this.scheduler.send(new CreateScheduleCommand(request))),
          );
      } else {
        await this.scheduler
          .send(new CreateScheduleCommand(request))
          .catch(orElse(ConflictException, () => this.scheduler.send(new UpdateScheduleCommand(request))));
      }
    }
  }

  private async listNames(): Promise<Set<string>> {
    const names = new Set<string>();
    let next: string | undefined;
    do {
      const r = await this.scheduler.send(
        new ListSchedulesCommand({ GroupName: this.opts.group, NextToken: next, MaxResults: 100 }),
      );
      for (const s of r.Schedules ?? []) if (s.Name) names.add(s.Name);
      next = r.NextToken;
    } while (next);
    return names;
  }

  async list(): Promise<CronTriggerView[]> {
    return listCronTriggers(await this.store.listPipelines(), (p, pattern, enabled) =>
      enabled
        ? new Cron(pattern, { paused: true, timezone: p.triggers?.cron?.timeZone ?? 'UTC' }).nextRun()
        : null,
    );
  }
}

const ignore =
  (type: new (...args: never[]) => Error) =>
  (err: unknown): void => {
    if (!(err instanceof type)) throw err;
  };

const orElse =
  <T>(type: new (...args: never[]) => Error, then: () => Promise<T>) =>
  (err: unknown): Promise<T> => {
    if (!(err instanceof type)) throw err;
    return then();
  };
