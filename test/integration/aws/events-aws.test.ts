// The AWS path's event stream and dashboard on the emulators: `GET /api/v1/events` as bounded
// responses (the api function reads the job records, answers with what changed and ends; a
// reconnect with the last id resumes), `sluice watch --endpoint` following it, and the dashboard
// served by the api function at `/`.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSse, type SseMessage } from '../../../shared/api/sse-reader.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import type { BuiltinAlgorithm } from '../../../shared/ports/builtin-algorithm.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { createApiProxy } from '../../../shared/runtime/api-proxy.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { ensureDashboard } from '../../../shared/runtime/embedded/dashboard-files.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { runCli } from '../../helpers/cli.ts';

/** Tasks of the `gate` built-in wait until the test opens the gate. */
let openGate: () => void = () => {};
let gate = new Promise<void>((r) => {
  openGate = r;
});
const closeGate = () => {
  gate = new Promise<void>((r) => {
    openGate = r;
  });
};
const gated: BuiltinAlgorithm = {
  name: 'gate',
  description: 'waits for the test',
  ioBound: true,
  run: async (input) => {
    await gate;
    return input;
  },
};
const builtins = allBuiltins();
builtins.set(gated.name, gated);

const WINDOW_MS = 1500;
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let url: string;

beforeAll(async () => {
  bed = await startAwsTestBed('events');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    builtins,
    runner: new InlineRunner(builtins, 2),
    slots: 2,
    s3PollMs: 0,
    http: { port: 0, host: '127.0.0.1', dashboard: await ensureDashboard() },
    events: { windowMs: WINDOW_MS, pollMs: 100 },
    onError: () => {},
  });
  url = stack.url as string;
}, 120_000);

afterAll(async () => {
  openGate();
  await stack?.close();
  await bed?.close();
});

interface Answer {
  status: number;
  type: string | null;
  retry: boolean;
  events: SseMessage[];
}

/** One request of the stream, read to its end (it is bounded). */
async function streamOnce(query: Record<string, string>, lastId?: string): Promise<Answer> {
  const res = await fetch(`${url}/api/v1/events?${new URLSearchParams(query)}`, {
    headers: lastId ? { 'last-event-id': lastId } : {},
  });
  const type = res.headers.get('content-type');
  if (!res.ok || !res.body) return { status: res.status, type, retry: false, events: [] };
  const text = await res.text();
  const events: SseMessage[] = [];
  for await (const m of readSse(new Response(text).body as ReadableStream<Uint8Array>)) events.push(m);
  return { status: res.status, type, retry: /^retry: \d+$/m.test(text), events };
}

async function submit(n: number): Promise<string> {
  const res = await fetch(`${url}/api/v1/exec/raw`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'gated',
      nodes: [
        { nodeName: 'Wait', algorithmName: 'gate', input: ['#@flowInput.items'] },
        { nodeName: 'Sink', algorithmName: 'echo', input: ['@Wait'] },
      ],
      flowInput: { items: Array.from({ length: n }, (_, i) => i) },
    }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { jobId: string }).jobId;
}

/** Follows the stream as a client does (reconnecting with the last id) until `done` says so. */
async function follow(
  query: Record<string, string>,
  from: string | undefined,
  done: (events: SseMessage[]) => boolean,
  whileFollowing?: (answers: number) => void,
) {
  const all: SseMessage[] = [];
  let lastId = from;
  let answers = 0;
  const end = Date.now() + 100_000;
  while (!done(all)) {
    if (Date.now() > end)
      throw new Error(`no end after ${answers} answers: ${JSON.stringify(all.slice(-3))}`);
    const a = await streamOnce(query, lastId);
    expect(a.status).toBe(200);
    answers++;
    for (const e of a.events) {
      expect(e.id, `${e.event} has an id`).toBeTruthy();
      lastId = e.id;
      all.push(e);
    }
    whileFollowing?.(answers);
  }
  return { events: all, lastId: lastId as string, answers };
}

const jobViews = (events: SseMessage[], jobId: string) =>
  events
    .filter((e) => e.event === 'job')
    .map((e) => JSON.parse(e.data) as { jobId: string; status: string; tasks: { succeeded: number } })
    .filter((v) => v.jobId === jobId);

describe('GET /api/v1/events on the AWS path (bounded stream)', () => {
  it('answers a first request at once with an id, a retry hint and the job’s current view', async () => {
    closeGate();
    const jobId = await submit(4);
    const a = await streamOnce({ jobId, types: 'job' });
    expect(a.status).toBe(200);
    expect(a.type).toMatch(/^text\/event-stream/);
    expect(a.retry).toBe(true);
    expect(a.events[0]?.event).toBe('hello');
    expect(a.events.every((e) => e.id)).toBe(true);
    expect(jobViews(a.events, jobId)).toHaveLength(1);
    openGate();
    await follow({ jobId, types: 'job' }, a.events.at(-1)?.id, (es) =>
      jobViews(es, jobId).some((v) => v.status === 'completed'),
    );
  }, 120_000);

  it('resumes from the last id: every change reaches the client, ending with the final view', async () => {
    closeGate();
    const jobId = await submit(6);
    const first = await streamOnce({ jobId, types: 'job' });
    // Nothing changes while the tasks wait: the request holds for its window and sends no event.
    const quiet = await streamOnce({ jobId, types: 'job' }, first.events.at(-1)?.id);
    expect(jobViews(quiet.events, jobId).filter((v) => v.tasks.succeeded > 0)).toEqual([]);
    const lastQuietId = quiet.events.at(-1)?.id ?? first.events.at(-1)?.id;
    openGate();
    const { events, lastId, answers } = await follow({ jobId, types: 'job' }, lastQuietId, (es) =>
      jobViews(es, jobId).some((v) => v.status === 'completed'),
    );
    const views = jobViews(events, jobId);
    expect(views.at(-1)).toMatchObject({ status: 'completed', tasks: { succeeded: 7 } });
    // Views only move forward (each is the job's state when read; none is sent twice in a row).
    const done = views.map((v) => v.tasks.succeeded);
    expect(done).toEqual([...done].sort((x, y) => x - y));
    expect(answers).toBeGreaterThanOrEqual(1);
    // After the end, a reconnect from the last id has nothing new: no job event is repeated.
    const after = await streamOnce({ jobId, types: 'job' }, lastId);
    expect(jobViews(after.events, jobId)).toEqual([]);
  }, 120_000);

  it('follows every job: a job submitted while following appears, then its end', async () => {
    const first = await streamOnce({ types: 'job' });
    expect(first.events[0]?.event).toBe('hello');
    openGate();
    const jobId = await submit(2);
    const { events } = await follow({ types: 'job' }, first.events.at(-1)?.id, (es) =>
      jobViews(es, jobId).some((v) => v.status === 'completed'),
    );
    expect(jobViews(events, jobId).at(-1)?.status).toBe('completed');
  }, 120_000);

  it('answers task followers with `reset` (reload) after a window in which tasks changed', async () => {
    closeGate();
    const jobId = await submit(3);
    const first = await streamOnce({ jobId, types: 'task' });
    expect(first.events.map((e) => e.event)).toEqual(['hello']);
    openGate();
    const { events } = await follow({ jobId, types: 'task' }, first.events[0]?.id, (es) =>
      es.some((e) => e.event === 'reset'),
    );
    expect(events.filter((e) => e.event === 'job')).toEqual([]);
  }, 120_000);

  it('answers an id it did not write (an embedded engine’s) with `reset`, and an unknown job with 404', async () => {
    const a = await streamOnce({ types: 'job' }, 'mabc123-42');
    expect(a.events.map((e) => e.event)).toEqual(['reset']);
    expect(a.events[0]?.id).toMatch(/^p1\./);
    const missing = await fetch(`${url}/api/v1/events?jobId=no-such-job`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('JOB_NOT_FOUND');
  });
});

it('sluice watch --endpoint follows the stream to the end (its status poll alone would take minutes)', async () => {
  closeGate();
  const jobId = await submit(5);
  const watching = runCli(['watch', jobId, '--endpoint', url, '--interval', '600000']);
  await new Promise((r) => setTimeout(r, 500));
  openGate();
  const r = await watching;
  expect(r.stdout).toBe(`${jobId} completed\n`);
  expect(r.code).toBe(0);
}, 120_000);

describe('the dashboard on the AWS path', () => {
  it('is served by the api function at / with its files; the API stays under /api/v1', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(await page.text()).toContain('src="app.js"');
    const js = await fetch(`${url}/app.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect((await fetch(`${url}/app.css`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/exec/jobs`)).status).toBe(200);
    expect((await fetch(`${url}/nothing.js`)).status).toBe(404);
  }, 60_000);

  it('reaches a browser through `sluice dashboard`’s proxy, which adds credentials the browser lacks', async () => {
    // The API behind the proxy asks for a token the browser never sees (as API Gateway asks for
    // SigV4); the browser authenticates to the proxy with the proxy's own token.
    const apiToken = 'a'.repeat(43);
    const guarded = await startLocalAwsStack({
      env: { ...process.env, ...bed.env },
      builtins,
      http: {
        port: 0,
        host: '127.0.0.1',
        guard: { boundHost: '127.0.0.1', token: apiToken },
        dashboard: await ensureDashboard(),
      },
      events: { windowMs: WINDOW_MS, pollMs: 100 },
      noWorker: true,
      s3PollMs: 0,
      onError: () => {},
    });
    const proxyToken = 'p'.repeat(43);
    const proxy = createApiProxy({
      target: `${guarded.url}/`,
      guard: { boundHost: '127.0.0.1', token: proxyToken },
      authHeaders: async (_m, _u, body) => ({
        authorization: `Bearer ${apiToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      }),
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    const at = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const auth = { authorization: `Bearer ${proxyToken}` };
    try {
      const page = await fetch(`${at}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('src="app.js"');
      expect((await fetch(`${at}/api/v1/exec/jobs`)).status).toBe(401);
      const jobs = await fetch(`${at}/api/v1/exec/jobs`, { headers: auth });
      expect(jobs.status).toBe(200);
      expect(Array.isArray(await jobs.json())).toBe(true);
      const stored = await fetch(`${at}/api/v1/store/algorithms`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'bad name!' }),
      });
      expect(stored.status).toBe(400);
      expect(((await stored.json()) as { error: { field?: string } }).error.field).toBe('name');
      const events = await fetch(`${at}/api/v1/events?types=job`, { headers: auth });
      expect(events.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(await events.text()).toMatch(/^event: hello$/m);
      // A foreign page cannot use the proxy (its Origin is refused, as by `sluice serve`).
      const foreign = await fetch(`${at}/api/v1/exec/jobs`, {
        headers: { ...auth, origin: 'https://evil.example' },
      });
      expect(foreign.status).toBe(403);
      // Without credentials to sign with, the browser is told why (one line), not sent on unsigned.
      const unsigned = createApiProxy({
        target: `${guarded.url}/`,
        guard: { boundHost: '127.0.0.1', token: proxyToken },
        authHeaders: async () => {
          throw new Error('cannot sign the request with AWS credentials: none found');
        },
      });
      await new Promise<void>((r) => unsigned.listen(0, '127.0.0.1', () => r()));
      try {
        const r = await fetch(
          `http://127.0.0.1:${(unsigned.address() as AddressInfo).port}/api/v1/exec/jobs`,
          {
            headers: auth,
          },
        );
        expect(r.status).toBe(502);
        expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/none found/);
      } finally {
        await new Promise<void>((r) => unsigned.close(() => r()));
      }
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
      await guarded.close();
    }
  }, 60_000);

  it('redirects the stage root without its slash, so the page’s relative URLs stay under the stage', async () => {
    const r = await stack.handlers.api({
      httpMethod: 'GET',
      path: '/',
      headers: {},
      queryStringParameters: null,
      body: null,
      isBase64Encoded: false,
      requestContext: { path: '/prod' },
    } as unknown as Parameters<LocalAwsStack['handlers']['api']>[0]);
    expect(r.statusCode).toBe(301);
    expect(r.headers?.location).toBe('/prod/');
  });
});
