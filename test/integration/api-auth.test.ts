// Who may use a serving engine's API: only a client with the home's token, JSON bodies only, no
// foreign Origin, and (bound to loopback) no foreign Host — the requests a web page in the user's
// browser could send. Each refused request leaves the state unchanged.

import { readFileSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHost } from '../helpers/engine.ts';

let h: Awaited<ReturnType<typeof startTestHost>>;
beforeAll(async () => {
  h = await startTestHost({ slots: 2 });
});
afterAll(async () => {
  await h?.close();
});

/** A raw request (fetch would not let a test set Host), answered with status and parsed body. */
function raw(
  api: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: { error?: { code: number; type: string; message: string } } & unknown }> {
  const url = new URL(`${api}${path}`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

// The attack of issue 11: a page POSTs an `env: command` algorithm as text/plain (no preflight).
const evil = JSON.stringify({ name: 'evil', env: 'command', command: ['touch', '/tmp/sluice-pwned'] });

async function algorithmNames(): Promise<string[]> {
  const r = await raw(h.api, 'GET', '/store/algorithms', h.headers);
  expect(r.status).toBe(200);
  return (r.body as unknown as { name: string }[]).map((a) => a.name);
}

describe('API token', () => {
  it('is created 0600 in $SLUICE_HOME/api-token and kept across restarts', async () => {
    const file = join(h.home, 'api-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(h.host.token);
    expect(h.host.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('no token or a wrong one: 401 with a one-line hint, nothing stored', async () => {
    const json = { 'content-type': 'application/json' };
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${h.host.token}` },
    ];
    for (const auth of variants) {
      const r = await raw(h.api, 'POST', '/store/algorithms', { ...json, ...auth }, evil);
      expect(r.status).toBe(401);
      expect(r.body.error?.type).toBe('UNAUTHORIZED');
      expect(r.body.error?.message).toMatch(/\$SLUICE_HOME\/api-token/);
    }
    expect((await raw(h.api, 'GET', '/exec/jobs', {})).status).toBe(401);
    expect(await algorithmNames()).not.toContain('evil');
  });

  it('with the token: the request is served', async () => {
    const r = await raw(
      h.api,
      'POST',
      '/store/algorithms',
      { ...h.headers, 'content-type': 'application/json' },
      evil,
    );
    expect(r.status).toBe(201);
    expect(await algorithmNames()).toContain('evil');
    expect((await raw(h.api, 'DELETE', '/store/algorithms/evil', h.headers)).status).toBe(200);
  });
});

describe('JSON bodies only', () => {
  it('text/plain, a form or no content type: 415, nothing stored', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    ]) {
      const r = await raw(
        h.api,
        'POST',
        '/store/algorithms',
        { ...h.headers, ...(type ? { 'content-type': type } : {}) },
        evil,
      );
      expect(r.status, String(type)).toBe(415);
      expect(r.body.error?.type).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
    expect(await algorithmNames()).not.toContain('evil');
  });

  it('application/json with a charset is JSON', async () => {
    const r = await raw(
      h.api,
      'POST',
      '/exec/raw',
      { ...h.headers, 'content-type': 'application/json; charset=utf-8' },
      JSON.stringify({
        name: 'ok',
        nodes: [{ nodeName: 'E', algorithmName: 'echo', input: [1] }],
      }),
    );
    expect(r.status).toBe(201);
  });
});

describe('Origin and Host', () => {
  it('a foreign Origin is refused even with the token; the same origin is served', async () => {
    const port = new URL(h.api).port;
    for (const origin of ['https://evil.example', 'null', `http://localhost:${Number(port) + 1}`]) {
      const r = await raw(h.api, 'GET', '/exec/jobs', { ...h.headers, origin });
      expect(r.status, origin).toBe(403);
      expect(r.body.error?.type).toBe('FORBIDDEN_ORIGIN');
    }
    const same = await raw(h.api, 'GET', '/exec/jobs', { ...h.headers, origin: `http://127.0.0.1:${port}` });
    expect(same.status).toBe(200);
  });

  it('bound to loopback, a foreign Host (DNS rebinding) is refused; local names are served', async () => {
    const port = new URL(h.api).port;
    const r = await raw(h.api, 'GET', '/exec/jobs', { ...h.headers, host: `evil.example:${port}` });
    expect(r.status).toBe(403);
    expect(r.body.error?.type).toBe('FORBIDDEN_HOST');
    // Host and Origin are checked outside the API too (the dashboard's pages).
    expect((await raw(h.host.url, 'GET', '/', { host: `evil.example:${port}` })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await raw(h.api, 'GET', '/exec/jobs', { ...h.headers, host })).status, host).toBe(200);
    }
  });
});

describe('serving choices', () => {
  it('auth: false (--no-auth) serves without a token but still refuses foreign origins', async () => {
    const open = await startTestHost({ auth: false });
    try {
      expect(open.host.token).toBeUndefined();
      expect((await raw(open.api, 'GET', '/exec/jobs', {})).status).toBe(200);
      expect((await raw(open.api, 'GET', '/exec/jobs', { origin: 'https://evil.example' })).status).toBe(403);
      expect(
        (await raw(open.api, 'POST', '/store/algorithms', { 'content-type': 'text/plain' }, evil)).status,
      ).toBe(415);
    } finally {
      await open.close();
    }
  });

  it('bound to 0.0.0.0 explicitly: other Host names are served (with the token), boundUrl says 0.0.0.0', async () => {
    const wide = await startTestHost({ host: '0.0.0.0' });
    try {
      expect(wide.host.boundUrl).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
      expect(wide.host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const port = new URL(wide.api).port;
      expect(
        (await raw(wide.api, 'GET', '/exec/jobs', { ...wide.headers, host: `box.lan:${port}` })).status,
      ).toBe(200);
      expect((await raw(wide.api, 'GET', '/exec/jobs', { host: `box.lan:${port}` })).status).toBe(401);
    } finally {
      await wide.close();
    }
  });
});
