// `sluice serve` logs what it does on stderr: one line per job transition and per failed request,
// as JSON lines with --log-format json; --quiet keeps only errors.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { type Served, serve, sluiceEnv, waitFor } from '../helpers/process.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let dir: string;
let served: Served | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-serve-log-'));
});
afterAll(async () => {
  if (served?.child.pid) process.kill(-served.child.pid, 'SIGTERM');
  await served?.exited;
  rmSync(dir, { recursive: true, force: true });
});

/** The API token of the home, when `sluice serve` writes one (see the API auth contract). */
function headers(home: string): Record<string, string> {
  const file = join(home, 'api-token');
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (existsSync(file)) h.authorization = `Bearer ${readFileSync(file, 'utf8').trim()}`;
  return h;
}

it('logs job transitions, request errors and failed webhooks as JSON lines', async () => {
  const home = join(dir, 'home');
  served = await serve(['--log-format', 'json'], { env: sluiceEnv(home) });
  const api = `${served.url}/api/v1`;
  const pipeline = {
    name: 'logged',
    nodes: [{ nodeName: 'A', algorithmName: 'echo', input: [1] }],
    webhooks: { result: 'http://127.0.0.1:9/unreachable' },
  };
  const r = await fetch(`${api}/exec/raw`, {
    method: 'POST',
    headers: headers(home),
    body: JSON.stringify(pipeline),
  });
  const { jobId } = (await r.json()) as { jobId: string };
  await fetch(`${api}/exec/status/nope`, { headers: headers(home) });
  const lines = () =>
    served!
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  await waitFor(
    'the completed line',
    () => (lines().some((l) => l.status === 'completed') ? true : undefined),
    30_000,
  );
  const jobLines = lines().filter((l) => l.event === 'job' && l.jobId === jobId);
  expect(jobLines.map((l) => l.status)).toEqual(expect.arrayContaining(['completed']));
  expect(jobLines[0]).toMatchObject({ level: 'info', pipeline: 'logged' });
  expect(typeof jobLines[0]?.time).toBe('string');
  expect(lines()).toContainEqual(
    expect.objectContaining({
      event: 'request',
      method: 'GET',
      path: '/api/v1/exec/status/nope',
      status: 404,
    }),
  );
  // The result webhook goes to a closed port: after its attempts, one error line names it.
  await waitFor(
    'the webhook line',
    () => (lines().some((l) => l.event === 'webhook') ? true : undefined),
    30_000,
  );
  expect(lines().find((l) => l.event === 'webhook')).toMatchObject({
    level: 'error',
    url: 'http://127.0.0.1:9/unreachable',
    attempts: 3,
  });
});
