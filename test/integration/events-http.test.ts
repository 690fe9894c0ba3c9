// The live event stream through a real HTTP server (`sluice serve`'s engine): job and task events
// of a running job, in order, each with an id; a reconnect with Last-Event-ID gets exactly the
// events it missed; an unknown id asks the client to reload; the route is in the OpenAPI document.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from '../../shared/api/sse-reader.ts';
import { runCli } from '../helpers/cli.ts';
import { startTestHost } from '../helpers/engine.ts';

let h: Awaited<ReturnType<typeof startTestHost>>;
beforeAll(async () => {
  h = await startTestHost({ slots: 4 });
});
afterAll(async () => {
  await h?.close();
});

async function post(path: string, body: unknown) {
  const res = await fetch(`${h.api}${path}`, {
    method: 'POST',
    headers: { ...h.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json() as Promise<{ jobId: string }>;
}

/** Opens the stream and collects events until `until` says stop (or the time is up). */
async function collect(
  query: string,
  until: (got: SseMessage[]) => boolean,
  headers: Record<string, string> = {},
  onOpen?: () => Promise<void>,
): Promise<SseMessage[]> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 15_000);
  const res = await fetch(`${h.api}/events${query}`, {
    headers: { ...h.headers, ...headers },
    signal: ctl.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const got: SseMessage[] = [];
  const opened = onOpen?.();
  try {
    for await (const m of readSse(res.body!)) {
      got.push(m);
      if (until(got)) break;
    }
  } catch (err) {
    if (!ctl.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ctl.abort();
  }
  await opened;
  return got;
}

const finalJob = (got: SseMessage[]) =>
  got.some((m) => m.event === 'job' && ['completed', 'failed'].includes(JSON.parse(m.data).status));

const batchPipeline = (name: string) => ({
  name,
  nodes: [
    // Each item sleeps ~0.3 s, so the throttled job views see items running.
    { nodeName: 'items', algorithmName: 'sleep', input: ['#[300...304]', 'x'] },
    { nodeName: 'after', algorithmName: 'echo', input: ['@items'] },
  ],
});

describe('GET /api/v1/events', () => {
  it('streams a job’s task and job events with ids until it completes', async () => {
    let jobId = '';
    const got = await collect('', finalJob, {}, async () => {
      jobId = (await post('/exec/raw', batchPipeline('events-a'))).jobId;
    });
    expect(got[0]?.event).toBe('hello');
    const tasks = got.filter((m) => m.event === 'task').map((m) => JSON.parse(m.data));
    const items = tasks.filter((t) => t.nodeName === 'items');
    // Every batch item started and succeeded, with its batch index.
    expect(
      items
        .filter((t) => t.status === 'succeeded')
        .map((t) => t.batchIndex)
        .sort(),
    ).toEqual([1, 2, 3, 4, 5]);
    expect(items.filter((t) => t.status === 'active')).toHaveLength(5);
    expect(tasks.some((t) => t.nodeName === 'after' && t.status === 'succeeded')).toBe(true);
    const views = got.filter((m) => m.event === 'job').map((m) => JSON.parse(m.data));
    // While it ran, the views counted running items, as exec/status does: 4 slots, plus at most
    // the one item whose successor took its slot while its own outcome was still being committed
    // (a view taken in those few ms counts both; under a loaded full run this happens).
    const running = views.map(
      (v) => v.nodes.find((n: { nodeName: string }) => n.nodeName === 'items')?.running,
    );
    expect(Math.max(...running.filter((r) => r !== undefined))).toBeGreaterThan(0);
    expect(Math.max(...running.filter((r) => r !== undefined))).toBeLessThanOrEqual(5);
    const last = views.at(-1);
    expect(last).toMatchObject({ jobId, status: 'completed', progress: 100 });
    expect(last.nodes.find((n: { nodeName: string }) => n.nodeName === 'items')).toMatchObject({
      total: 5,
      succeeded: 5,
    });
    // Ids increase strictly.
    const seqs = got.slice(1).map((m) => Number(m.id!.split('-')[1]));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('filters by job and resumes after Last-Event-ID with exactly the missed events', async () => {
    const start = await helloId();
    const { jobId } = await post('/exec/raw', batchPipeline('events-b'));
    const other = await post('/exec/raw', batchPipeline('events-c'));
    // Everything since `start`, of this job only, until it completes.
    const all = await collect(`?jobId=${jobId}&lastEventId=${start}`, finalJob);
    expect(all.length).toBeGreaterThan(3);
    expect(all.every((m) => m.event === 'hello' || JSON.parse(m.data).jobId !== other.jobId)).toBe(true);
    const events = all.filter((m) => m.event !== 'hello');
    // A client that saw the first three events reconnects: it gets the rest, nothing twice.
    const seen = events[2]!;
    const rest = await collect(`?jobId=${jobId}`, finalJob, { 'Last-Event-ID': seen.id! });
    expect(rest[0]).toMatchObject({ event: 'hello', id: seen.id });
    expect(rest.slice(1).map((m) => m.id)).toEqual(events.slice(3).map((m) => m.id));
  });

  it('answers an unknown or stale id with a reset event', async () => {
    const got = await collect('', (g) => g.length >= 1, { 'Last-Event-ID': 'old-engine-42' });
    expect(got[0]?.event).toBe('reset');
    expect(got[0]?.id).toMatch(/^\w+-\d+$/);
  });

  it('feeds `sluice watch`: it follows the stream and ends with the job, without polling', async () => {
    const { jobId } = await post('/exec/raw', batchPipeline('events-watch'));
    const t0 = Date.now();
    // A poll every minute would outlast the test: only the stream can end it in time.
    const r = await runCli(['watch', jobId, '--endpoint', h.host.url, '--interval', '60000'], {
      env: { SLUICE_HOME: h.home },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${jobId} completed\n`);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stderr).toContain(`${jobId} completed 100%`);
  });

  it('is documented in the OpenAPI document as text/event-stream', async () => {
    const doc = (await (await fetch(`${h.api}/openapi.json`, { headers: h.headers })).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content: object }> } }>;
    };
    const op = doc.paths['/api/v1/events']?.get;
    expect(op?.responses['200']?.content).toHaveProperty(['text/event-stream']);
  });
});

/** The id of the newest event now (a hello on a fresh stream carries it). */
async function helloId(): Promise<string> {
  const got = await collect('', (g) => g.length >= 1);
  return got[0]!.id!;
}
