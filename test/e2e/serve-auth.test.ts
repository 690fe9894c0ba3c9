// `sluice serve` says who can reach it: the address actually bound, the dashboard link with the
// token, a warning for a non-loopback --host, what --no-auth gives up; the CLI finds the token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Served, serve, sluice, sluiceEnv } from '../helpers/process.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

let dir: string;
const running: Served[] = [];
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-serve-auth-'));
});
afterAll(async () => {
  for (const s of running) {
    s.child.kill('SIGTERM');
    await s.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('sluice serve and its token', () => {
  it('--host 0.0.0.0: prints the bound address, the dashboard link, a warning; the CLI sends the token', async () => {
    const env = sluiceEnv(join(dir, 'wide'));
    const s = await serve(['--host', '0.0.0.0', '-w', '1'], { env });
    running.push(s);
    const port = new URL(s.url).port;
    expect(s.stderr()).toContain(`serving http://0.0.0.0:${port}/api/v1`);
    expect(s.stderr()).toContain(`dashboard: http://0.0.0.0:${port}/#token=${s.token}`);
    expect(s.stderr()).toMatch(/warning: listening on 0\.0\.0\.0.*TLS-terminating proxy/);
    expect((await fetch(`${s.url}/api/v1/exec/jobs`)).status).toBe(401);
    const jobs = await sluice(['exec', 'jobs', '--json'], { env });
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(JSON.parse(jobs.stdout)).toEqual([]);
  });

  it('--no-auth: says what it gives up and asks no token', async () => {
    const env = sluiceEnv(join(dir, 'open'));
    const s = await serve(['--no-auth', '-w', '1'], { env });
    running.push(s);
    expect(s.token).toBeUndefined();
    expect(s.stderr()).toMatch(/--no-auth: no token is asked; any program or user that can connect/);
    expect(s.stderr()).not.toMatch(/warning/);
    expect((await fetch(`${s.url}/api/v1/exec/jobs`)).status).toBe(200);
  });
});
