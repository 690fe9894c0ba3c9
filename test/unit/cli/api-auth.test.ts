// The CLI authenticates to an API: the token of a local `sluice serve` as a Bearer header, an API
// key as x-api-key, or SigV4 (IAM auth). The
// signature is checked here by an independent implementation of the SigV4 algorithm.
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiAuthFor } from '../../../cli/connection.ts';
import { ensureApiToken } from '../../../shared/runtime/api-token.ts';
import { runCli } from '../../helpers/cli.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.method === 'GET' ? '[]' : JSON.stringify({ jobId: 'j1', status: 'stopped' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (k: Buffer | string, s: string) => createHmac('sha256', k).update(s).digest();
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Recomputes the SigV4 signature of a received request (AWS's documented algorithm). */
function expectedSignature(
  r: Seen,
  region: string,
  service: string,
): { signature: string; credential: string } {
  const auth = String(r.headers.authorization);
  const signedHeaders = /SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '';
  const amzDate = String(r.headers['x-amz-date']);
  const url = new URL(r.url, 'http://x');
  const query = [...url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map((h) => `${h}:${String(r.headers[h]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [r.method, url.pathname, query, headers, signedHeaders, sha(r.body)].join('\n');
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${SECRET}`, date), region), service), 'aws4_request');
  return {
    signature: createHmac('sha256', key).update(toSign).digest('hex'),
    credential: `AKIDEXAMPLE/${scope}`,
  };
}

describe('CLI authentication to a deployed API', () => {
  it('sends the API key as x-api-key', async () => {
    seen.length = 0;
    const r = await runCli(['exec', 'jobs', '--json', '--endpoint', endpoint], {
      env: { SLUICE_API_KEY: 'k-123' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(seen[0]?.headers['x-api-key']).toBe('k-123');
    expect(seen[0]?.headers.authorization).toBeUndefined();
  });

  it('signs GET (with a query) and POST (with a body) with SigV4 for execute-api', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET);
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_PROFILE', '');
    try {
      seen.length = 0;
      const env = { SLUICE_API_AUTH: 'iam', AWS_REGION: 'eu-west-1' };
      const list = await runCli(
        ['exec', 'jobs', '--status', 'failed', '--limit', '5', '--json', '--endpoint', endpoint],
        { env },
      );
      expect(list.code, list.stderr).toBe(0);
      const stop = await runCli(['exec', 'stop', 'j1', '--reason', 'enough', '--endpoint', endpoint], {
        env,
      });
      expect(stop.code, stop.stderr).toBe(0);
      expect(seen).toHaveLength(2);
      for (const r of seen) {
        const want = expectedSignature(r, 'eu-west-1', 'execute-api');
        expect(String(r.headers.authorization)).toContain(`Credential=${want.credential}`);
        expect(String(r.headers.authorization)).toContain(`Signature=${want.signature}`);
      }
      expect(seen[0]?.url).toContain('status=failed');
      expect(JSON.parse(seen[1]?.body ?? '{}')).toEqual({ jobId: 'j1', reason: 'enough' });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('signs API Gateway hosts by default and rejects an unknown SLUICE_API_AUTH', () => {
    expect(apiAuthFor(new URL('https://abc123.execute-api.us-west-2.amazonaws.com/prod'), {})).toEqual({
      kind: 'iam',
    });
    expect(apiAuthFor(new URL('http://127.0.0.1:3000'), {})).toEqual({ kind: 'none' });
    expect(() => apiAuthFor(new URL('http://127.0.0.1:3000'), { SLUICE_API_AUTH: 'basic' })).toThrow(
      /SLUICE_API_AUTH must be iam, apiKey, token or none/,
    );
  });

  it('sends the home token of a local `sluice serve` as a Bearer header, never to a remote host', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sluice-auth-'));
    try {
      const token = ensureApiToken(home);
      seen.length = 0;
      const r = await runCli(['exec', 'jobs', '--json', '--endpoint', endpoint], {
        env: { SLUICE_HOME: home },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(seen[0]?.headers.authorization).toBe(`Bearer ${token}`);
      // SLUICE_API_TOKEN names the token of another machine's engine.
      seen.length = 0;
      await runCli(['exec', 'jobs', '--json', '--endpoint', endpoint], {
        env: { SLUICE_HOME: home, SLUICE_API_TOKEN: 'other-token' },
      });
      expect(seen[0]?.headers.authorization).toBe('Bearer other-token');
      expect(apiAuthFor(new URL('http://10.1.2.3:3000'), {}, undefined)).toEqual({ kind: 'none' });
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
