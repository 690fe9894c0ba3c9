// Trigger operations of the REST API: the pipeline trigger tree, cron triggers, webhook deliveries.
import { DEFAULT_CRON_PATTERN } from '../pipeline/constants.ts';
import { validatePipeline } from '../pipeline/index.ts';
import type { ApiDeps } from './api-deps.ts';
import { getJob } from './exec.ts';
import { obj, str } from './request-body.ts';
import { getPipeline } from './store.ts';

export async function triggersTree(deps: ApiDeps) {
  const pipelines = await deps.registry.listPipelines();
  const childrenOf = (name: string, seen: Set<string>): unknown[] =>
    pipelines
      .filter((p) => p.triggers?.pipelines?.includes(name) && !seen.has(p.name))
      .map((p) => ({ name: p.name, children: childrenOf(p.name, new Set([...seen, p.name])) }));
  const triggered = new Set(pipelines.filter((p) => p.triggers?.pipelines?.length).map((p) => p.name));
  return pipelines
    .filter((p) => !triggered.has(p.name) && pipelines.some((c) => c.triggers?.pipelines?.includes(p.name)))
    .map((p) => ({ name: p.name, children: childrenOf(p.name, new Set([p.name])) }));
}

/** Cron triggers of stored pipelines; nextRun only where a scheduler runs (`sluice serve`). */
export async function cronList(deps: ApiDeps) {
  if (deps.cron) return deps.cron.list();
  return (await deps.registry.listPipelines()).flatMap((p) => {
    const c = p.triggers?.cron;
    return c?.pattern
      ? [
          {
            name: p.name,
            pattern: c.pattern,
            enabled: c.enabled,
            ...(c.timeZone ? { timeZone: c.timeZone } : {}),
          },
        ]
      : [];
  });
}

/**
 * cron/start and cron/stop. Starting without a pattern keeps the stored one, else uses HKube's
 * default (`0 * * * *`, hourly); stopping a pipeline that has no cron trigger changes nothing.
 */
export async function cronSet(deps: ApiDeps, body: unknown, enabled: boolean) {
  const b = obj(body, 'the request');
  const name = str(b, 'name');
  const p = await getPipeline(deps, name);
  const given = enabled && typeof b.pattern === 'string' ? b.pattern : undefined;
  const stored = p.triggers?.cron?.pattern;
  if (!enabled && stored === undefined) return { name, enabled: false };
  const pattern = given ?? stored ?? DEFAULT_CRON_PATTERN;
  const updated = validatePipeline(
    // The time zone (if any) stays with the trigger.
    { ...p, triggers: { ...p.triggers, cron: { ...p.triggers?.cron, pattern, enabled } } },
    { checkFlowInput: false },
  );
  await deps.registry.putPipeline(updated, 'update');
  await deps.cron?.refresh([name]);
  return { name, pattern, enabled };
}

export async function webhooks(deps: ApiDeps, jobId: string, kind: 'progress' | 'result') {
  await getJob(deps, jobId);
  return deps.notifier ? deps.notifier.deliveries(jobId, kind) : [];
}
