// Cron triggers on AWS: one EventBridge rule per stored pipeline with an enabled cron trigger,
// targeting the cron function with {"sluiceCron": {"pipelineName": ...}}. `refresh` (called when
// stored pipelines change) creates, updates and removes rules to match the store.
import {
  DeleteRuleCommand,
  type EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { Cron } from 'croner';
import type { CronControl } from '../../api/service.ts';
import { type CronTriggerView, listCronTriggers } from '../../engine/cron-triggers.ts';
import type { Registry } from '../../ports/registry.ts';

/**
 * A Sluice/HKube cron pattern (5 fields, or 6 with seconds) as an EventBridge schedule
 * expression: `cron(min hour day-of-month month day-of-week year)`. EventBridge wants `?` in one
 * of the day fields and numbers days of the week 1–7 from Sunday (cron: 0–6); seconds are dropped
 * (EventBridge fires at most once a minute).
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

/** Rule names: prefix + pipeline name, only the characters EventBridge allows, ≤ 64. */
export function ruleName(prefix: string, pipelineName: string): string {
  return `${prefix}${pipelineName.replace(/[^.\-_A-Za-z0-9]/g, '_')}`.slice(0, 64);
}

export interface CronEventInput {
  sluiceCron: { pipelineName: string };
}

export class EventBridgeCron implements CronControl {
  constructor(
    private readonly events: EventBridgeClient,
    private readonly store: Pick<Registry, 'listPipelines'>,
    private readonly opts: { targetArn: string; prefix: string },
  ) {}

  async refresh(): Promise<void> {
    const wanted = new Map<string, { name: string; pattern: string }>();
    for (const p of await this.store.listPipelines()) {
      const c = p.triggers?.cron;
      if (c?.enabled && c.pattern)
        wanted.set(ruleName(this.opts.prefix, p.name), { name: p.name, pattern: c.pattern });
    }
    let next: string | undefined;
    const existing: string[] = [];
    do {
      const r = await this.events.send(
        new ListRulesCommand({ NamePrefix: this.opts.prefix, NextToken: next }),
      );
      for (const rule of r.Rules ?? []) if (rule.Name) existing.push(rule.Name);
      next = r.NextToken;
    } while (next);
    for (const name of existing) {
      if (wanted.has(name)) continue;
      const t = await this.events.send(new ListTargetsByRuleCommand({ Rule: name }));
      const ids = (t.Targets ?? []).map((x) => x.Id).filter((x): x is string => Boolean(x));
      if (ids.length) await this.events.send(new RemoveTargetsCommand({ Rule: name, Ids: ids }));
      await this.events.send(new DeleteRuleCommand({ Name: name }));
    }
    for (const [name, w] of wanted) {
      await this.events.send(
        new PutRuleCommand({
          Name: name,
          ScheduleExpression: toScheduleExpression(w.pattern),
          State: 'ENABLED',
          Description: `Sluice cron trigger of pipeline ${w.name} (${w.pattern})`,
        }),
      );
      const input: CronEventInput = { sluiceCron: { pipelineName: w.name } };
      await this.events.send(
        new PutTargetsCommand({
          Rule: name,
          Targets: [{ Id: 'sluice-cron', Arn: this.opts.targetArn, Input: JSON.stringify(input) }],
        }),
      );
    }
  }

  async list(): Promise<CronTriggerView[]> {
    return listCronTriggers(await this.store.listPipelines(), (_p, pattern, enabled) =>
      enabled ? new Cron(pattern, { paused: true }).nextRun() : null,
    );
  }
}
