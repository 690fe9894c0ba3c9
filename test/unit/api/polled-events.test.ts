// The bounded event stream (AWS's GET /events) on a real embedded store: what a reconnect with an
// id gets — the jobs that changed since, a finished job's last view once, `reset` where the id
// cannot say (past 40 jobs, or an id of another stream).
import { afterEach, expect, it } from 'vitest';
import type { ApiDeps } from '../../../shared/api/api-deps.ts';
import { cursorOf, parseCursor, polledEvents } from '../../../shared/api/polled-events.ts';
import { readSse, type SseMessage } from '../../../shared/api/sse-reader.ts';
import { openTestEngine, serviceOf, type TestEngine } from '../../helpers/engine.ts';

let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const OPTS = { windowMs: 60, pollMs: 20 };

async function events(deps: ApiDeps, req: Parameters<typeof polledEvents>[1]): Promise<SseMessage[]> {
  const { text } = await polledEvents(deps, req, OPTS);
  const out: SseMessage[] = [];
  for await (const m of readSse(new Response(text).body as ReadableStream<Uint8Array>)) out.push(m);
  return out;
}

/** Follows from `id` until an answer has nothing new (the jobs were admitted and started); its id. */
async function settled(deps: ApiDeps, id: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const next = await events(deps, { types: new Set(['job']), resumeFrom: id });
    if (next.length === 0) return id;
    id = next.at(-1)?.id as string;
  }
  throw new Error('the jobs never settled');
}

const sleeper = (name: string) => ({
  name,
  nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [60_000] }],
});

it('an id names the views seen; it reads back, and one of another stream does not', () => {
  const seen = new Map([
    ['job-a', 'h1'],
    ['job-b', 'h2'],
  ]);
  expect(parseCursor(cursorOf(seen))).toEqual(seen);
  expect(parseCursor('lq2x8-17')).toBeUndefined();
  expect(parseCursor('p1.not-base64-json')).toBeUndefined();
});

it('sends a job that ended since the id once, with its final view, then nothing', async () => {
  t = await openTestEngine({ slots: 4 });
  const deps = serviceOf(t).deps;
  const a = await t.engine.coordinator.submit(sleeper('a'));
  const b = await t.engine.coordinator.submit(sleeper('b'));
  const first = await events(deps, { types: new Set(['job']) });
  expect(first.map((e) => e.event)).toEqual(['hello', 'job', 'job']);
  const id = await settled(deps, first.at(-1)?.id as string);
  await t.engine.coordinator.stop(a.jobId, 'enough');
  const after = await events(deps, { types: new Set(['job']), resumeFrom: id });
  expect(after.map((e) => [e.event, JSON.parse(e.data).jobId, JSON.parse(e.data).status])).toEqual([
    ['job', a.jobId, 'stopped'],
  ]);
  // The finished job left the id: a reconnect from it gets nothing more.
  expect([...(parseCursor(after[0]?.id as string) as Map<string, string>).keys()]).toEqual([b.jobId]);
  expect(await events(deps, { types: new Set(['job']), resumeFrom: after[0]?.id as string })).toEqual([]);
  await t.engine.coordinator.stop(b.jobId);
}, 30_000);

it('past 40 jobs an id holds one digest: unchanged, nothing; changed, `reset`', async () => {
  t = await openTestEngine({ slots: 1 });
  const deps = serviceOf(t).deps;
  const jobs = [];
  for (let i = 0; i < 41; i++) jobs.push(await t.engine.coordinator.submit(sleeper(`many-${i}`)));
  const first = await events(deps, { types: new Set(['job']) });
  expect(first[0]?.id).toMatch(/^p1\.\*/);
  const id = await settled(deps, first.at(-1)?.id as string);
  expect(id).toMatch(/^p1\.\*/);
  await t.engine.coordinator.stop(jobs[5]!.jobId);
  expect((await events(deps, { types: new Set(['job']), resumeFrom: id })).map((e) => e.event)).toEqual([
    'reset',
  ]);
  for (const j of jobs) await t.engine.coordinator.stop(j.jobId).catch(() => {});
}, 60_000);
