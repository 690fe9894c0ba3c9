// A process killed between the steps that follow a job's final status (result webhook, pipeline
// triggers, admission of the job waiting for its concurrency slot), on any backend: the job reads
// as completed with its results at once; the recovery sweep the backend runs after a crash (the
// embedded engine's restart, the AWS dispatch tick) carries out the missing steps exactly once.
// The "kill" makes the port call of that step throw once, as a dying process would stop there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { ApiDeps } from '../../shared/api/api-deps.ts';
import { putPipeline } from '../../shared/api/store.ts';
import type { Coordinator } from '../../shared/engine/coordinator.ts';
import { triggeredJobId } from '../../shared/engine/finish.ts';
import { isJobFinal } from '../../shared/ports/job-state.ts';
import type { JobStore } from '../../shared/ports/jobs.ts';
import type { Notifier } from '../../shared/ports/notifier.ts';
import type { Registry } from '../../shared/ports/registry.ts';

export type KillPoint = 'before-webhook' | 'before-triggers' | 'before-admission';
export const KILL_POINTS: KillPoint[] = ['before-webhook', 'before-triggers', 'before-admission'];

/** The backend as the scenario drives it; `recover` is what runs after a crash there. */
export interface FinishBackend {
  coordinator: Coordinator;
  jobs: JobStore;
  registry: Registry;
  notifier: Notifier;
  deps: ApiDeps;
  recover(): Promise<{ finished: number }>;
}

export async function startHookServer(): Promise<{ url: string; bodies: unknown[]; server: Server }> {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      bodies.push(JSON.parse(body || 'null'));
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

/** Makes `obj[method]` throw once when `when(args)` holds: the process "dies" at that call. */
function failOnce<T extends object>(obj: T, method: keyof T & string, when: (args: unknown[]) => boolean) {
  const original = (obj[method] as (...a: unknown[]) => Promise<unknown>).bind(obj);
  let fired = false;
  (obj as Record<string, unknown>)[method] = (...args: unknown[]) => {
    if (!fired && when(args)) {
      fired = true;
      return Promise.reject(new Error(`killed at ${method}`));
    }
    return original(...args);
  };
  return {
    get fired() {
      return fired;
    },
    restore: () => {
      (obj as Record<string, unknown>)[method] = original;
    },
  };
}

async function waitFor<T>(f: () => Promise<T | undefined>, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const final = (b: FinishBackend, jobId: string) =>
  waitFor(async () => {
    const j = await b.jobs.getJob(jobId);
    return j && isJobFinal(j) && (await b.jobs.getResults(jobId)) !== undefined ? j : undefined;
  }, `job ${jobId} to finish`);

export async function killBetweenCompletionSteps(
  b: FinishBackend,
  kill: KillPoint,
  hook: { url: string; bodies: unknown[] },
): Promise<void> {
  const tag = `${kill}-${Math.random().toString(36).slice(2, 8)}`;
  const parentName = `fin-${tag}`;
  const childName = `fin-child-${tag}`;
  await putPipeline(
    b.deps,
    {
      name: childName,
      nodes: [{ nodeName: 'c', algorithmName: 'echo', input: ['child'] }],
      triggers: { pipelines: [parentName] },
    },
    'create',
  );
  const parent = {
    name: parentName,
    webhooks: { result: hook.url },
    options: { concurrentPipelines: { amount: 1, rejectOnFailure: false } },
    nodes: [{ nodeName: 'a', algorithmName: 'sleep', input: [300, 'done'] }],
  };
  const first = await b.coordinator.submit(parent);
  const second = await b.coordinator.submit(parent);
  expect(second.admitted).toBe(false);

  const fault =
    kill === 'before-webhook'
      ? failOnce(b.notifier, 'notify', (a) => a[0] === first.jobId && a[1] === 'result')
      : kill === 'before-triggers'
        ? failOnce(b.registry, 'listPipelines', () => true)
        : failOnce(b.jobs, 'listJobs', (a) => {
            const f = a[0] as { status?: string; pipelineName?: string };
            return f.status === 'pending' && f.pipelineName === parentName;
          });
  try {
    // Reads as completed with its results at once (results are written before the status).
    const done = await final(b, first.jobId);
    expect(done.status).toBe('completed');
    expect(await b.jobs.getResults(first.jobId)).toMatchObject([{ nodeName: 'a', result: 'done' }]);
    await waitFor(async () => (fault.fired ? true : undefined), 'the kill');
  } finally {
    fault.restore();
  }
  // What the dead process did not do is still owed.
  const childId = triggeredJobId(childName, first.jobId);
  const owed = await b.jobs.finishingJobs();
  expect(owed.map((o) => o.jobId)).toContain(first.jobId);
  if (kill !== 'before-admission') expect(await b.jobs.getJob(childId)).toBeUndefined();
  expect((await b.jobs.getJob(second.jobId))?.admitted).toBe(false);
  if (kill === 'before-webhook') expect(await b.notifier.deliveries(first.jobId, 'result')).toEqual([]);

  // The sweep runs them: the child starts, the waiting job is admitted, the webhook goes out.
  // (Webhooks the "dead" process had in flight land first: a real restart finds them recorded.)
  await b.notifier.drain();
  const swept = await b.recover();
  expect(swept.finished).toBeGreaterThanOrEqual(1);
  expect((await final(b, childId)).status).toBe('completed');
  expect((await final(b, second.jobId)).status).toBe('completed');
  await waitFor(
    async () =>
      (await b.notifier.deliveries(first.jobId, 'result')).some((d) => d.status === 'delivered')
        ? true
        : undefined,
    'the result webhook',
  );
  // Exactly once, however often the sweep runs again.
  await b.recover();
  await b.notifier.drain();
  // One child per parent job: the first's (by its derived id) and the second's.
  const children = await waitFor(async () => {
    const ids = (await b.jobs.listJobs({ pipelineName: childName, limit: 50 })).map((j) => j.jobId);
    return ids.length >= 2 ? ids : undefined;
  }, "the second job's child");
  expect(children.filter((id) => id === childId)).toHaveLength(1);
  expect(children).toHaveLength(2);
  expect(await b.notifier.deliveries(first.jobId, 'result')).toHaveLength(1);
  const hooks = hook.bodies.filter((h) => (h as { jobId?: string })?.jobId === first.jobId);
  expect(hooks).toHaveLength(1);
  expect((await b.jobs.finishingJobs()).map((o) => o.jobId)).not.toContain(first.jobId);
  // Quiet before the next case (its kill must not catch this case's last steps).
  for (const id of children) await final(b, id);
  await waitFor(async () => ((await b.jobs.finishingJobs()).length === 0 ? true : undefined), 'quiet');
  await b.notifier.drain();
}
