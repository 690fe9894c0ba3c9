// Ctrl-C (SIGINT) or SIGTERM to `sluice run`: the engine in the command closes its worker pool
// (whose processes run in their own process groups, out of the terminal's reach), exits non-zero,
// and leaves the job for `sluice resume`.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BIN, isAlive, REPO, sluice, sluiceEnv, waitFor } from '../helpers/process.ts';
import { readLog, slowPipeline, writeAlgorithms } from './fixtures.ts';

// Real processes (tsx start-up ~0.4 s each) on a shared machine: generous time limits.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-signals-'));
  writeAlgorithms(dir);
  writeFileSync(join(dir, 'slow.yml'), slowPipeline('interrupted', 4, 60));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe.each([
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)('sluice run interrupted by %s', (signal, exitCode) => {
  it('stops the algorithm processes, exits non-zero, and the job resumes later', async () => {
    const home = join(dir, signal);
    const logFile = join(dir, `${signal}.log`);
    const env = sluiceEnv(home, { SLUICE_TEST_LOG: logFile });
    const child = spawn(process.execPath, [BIN, 'run', join(dir, 'slow.yml'), '-w', '2'], {
      cwd: REPO,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const pids = await waitFor(
      'two items running',
      () => {
        const starts = readLog(logFile).filter((e) => e.kind === 'start');
        return starts.length >= 2 ? starts.map((e) => e.pid as number) : undefined;
      },
      60_000,
    ); // a loaded 2-core box takes more than 15 s to start `sluice run` and two processes
    const t0 = Date.now();
    child.kill(signal);
    expect(await exited).toBe(exitCode);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(stderr).toMatch(new RegExp(`sluice: ${signal}: stopping the workers; .*sluice resume`));
    for (const pid of pids) expect(isAlive(pid), `algorithm process ${pid}`).toBe(false);
    expect(existsSync(join(home, 'engine.lock'))).toBe(false);
    expect(existsSync(join(home, 'engine.json'))).toBe(false);

    const resumed = await sluice(['resume'], {
      env: { ...env, SLUICE_TEST_SLEEP: '0.05' },
      timeoutMs: 60_000,
    });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^interrupted-\S+ completed\n$/);
    // The interrupted items were put back, not billed: nothing was retried.
    const jobId = resumed.stdout.split(' ')[0] as string;
    const status = await sluice(['exec', 'status', jobId, '--json'], { env });
    expect(JSON.parse(status.stdout).tasks).toMatchObject({ succeeded: 4, retried: 0 });
    expect(
      readLog(logFile)
        .filter((e) => e.kind === 'end')
        .map((e) => e.item)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
  });
});
