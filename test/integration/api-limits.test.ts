// Malformed and oversized requests get a clear 4xx (or 503), never a 500 or unbounded memory: a
// path that is not percent-encoded UTF-8, a body that is not UTF-8, a body over the cap, and more
// large bodies at once than the server buffers.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost } from '../helpers/engine.ts';

const KiB = 1024;
let h: Awaited<ReturnType<typeof startTestHost>>;
beforeAll(async () => {
  h = await startTestHost({ bodyLimits: { maxBodyBytes: 256 * KiB, maxBufferedBytes: 512 * KiB } });
});
afterAll(async () => {
  await h?.close();
});

interface Answer {
  status: number;
  body: { error?: { code: number; type: string; message: string } };
}

/** Sends `parts` one after another (waiting `gapMs` between them) and resolves with the answer. */
function send(
  path: string,
  parts: Buffer[],
  opts: { length?: number; gapMs?: number } = {},
): Promise<Answer> {
  const url = new URL(`${h.api}${path}`);
  const total = opts.length ?? parts.reduce((n, p) => n + p.length, 0);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { ...h.headers, 'content-type': 'application/json', 'content-length': String(total) },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server may close the connection after answering while parts are still being written.
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    void (async () => {
      for (const p of parts) {
        if (req.destroyed) return;
        req.write(p);
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
      req.end();
    })();
  });
}

async function get(path: string): Promise<Answer> {
  const res = await fetch(`${h.api}${path}`, { headers: h.headers });
  return { status: res.status, body: (await res.json()) as Answer['body'] };
}

const jobCount = async () => ((await get('/exec/jobs')).body as unknown as unknown[]).length;

describe('malformed requests', () => {
  it('a path parameter that is not percent-encoded UTF-8: 400, not 500', async () => {
    for (const p of ['/exec/status/%E0%A4%A', '/exec/status/%FF', '/store/pipelines/%']) {
      const r = await get(p);
      expect(r.status, p).toBe(400);
      expect(r.body.error?.type).toBe('INVALID_PATH');
    }
  });

  it('a body with bytes that are not UTF-8: 400, nothing created', async () => {
    const before = await jobCount();
    const json = '{"name":"bad","nodes":[{"nodeName":"A","algorithmName":"echo","input":["X"]}]}';
    const bytes = Buffer.from(json);
    bytes[bytes.indexOf('X')] = 0xff;
    const r = await send('/exec/raw', [bytes]);
    expect(r.status).toBe(400);
    expect(r.body.error?.message).toBe('request body is not valid UTF-8');
    expect(await jobCount()).toBe(before);
  });
});

describe('body limits', () => {
  it('a body declared or sent over the cap: 413 before it is buffered', async () => {
    const declared = await send('/exec/raw', [Buffer.from('{')], { length: 10 * 1024 * KiB });
    expect(declared.status).toBe(413);
    expect(declared.body.error?.type).toBe('TOO_LARGE');
  });

  it('more large bodies at once than the server buffers: the extra ones get 503, the others are read', async () => {
    // Three bodies of 240 KiB, sent slowly: two fit the 512 KiB budget, the third does not.
    const body = Buffer.from(JSON.stringify({ name: 'big', nodes: [], pad: 'x'.repeat(240 * KiB) }));
    const parts = Array.from({ length: 8 }, (_, i) =>
      body.subarray((i * body.length) / 8, ((i + 1) * body.length) / 8),
    );
    const answers = await Promise.all([0, 1, 2].map(() => send('/store/pipelines', parts, { gapMs: 60 })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toContain(503);
    expect(answers.find((a) => a.status === 503)?.body.error?.message).toMatch(/retry shortly/);
    // The others were read to the end and judged on their content (an unknown field: 400).
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThanOrEqual(1);
    // The budget is given back: a later body is read again.
    expect((await send('/store/pipelines', [body])).status).toBe(400);
  });
});
