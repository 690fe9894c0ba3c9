// Acknowledged means durable: every jobId `sluice serve` answered with a 201 is still there after a
// kill -9 that lands right after the answers (the embedded store group-commits writes a turn later;
// the API answers only once the group holding the job is committed).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Served, serve, sluice, sluiceEnv } from '../helpers/process.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

let dir: string;
let served: Served | undefined;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-ack-'));
});
afterAll(async () => {
  if (served && served.child.exitCode === null && served.child.signalCode === null) {
    served.child.kill('SIGKILL');
    await served.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

const ROUNDS = 3;
const IN_FLIGHT = 20;

/** Submits jobs, IN_FLIGHT at a time, until `stop()`; returns the jobIds answered with 201. */
function submitUntilKilled(s: Served, killAfter: number): Promise<{ acked: string[]; killed: boolean }> {
  const acked: string[] = [];
  let killed = false;
  const body = JSON.stringify({
    name: 'acked',
    nodes: [{ nodeName: 'E', algorithmName: 'echo', input: ['@flowInput.x'] }],
    flowInput: { x: 'x'.repeat(2000) },
  });
  const one = async (): Promise<void> => {
    while (!killed) {
      let res: Response;
      try {
        res = await fetch(`${s.url}/api/v1/exec/raw`, {
          method: 'POST',
          headers: { ...s.headers, 'content-type': 'application/json' },
          body,
        });
      } catch {
        return; // the engine is gone
      }
      if (res.status !== 201) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
      const { jobId } = (await res.json()) as { jobId: string };
      acked.push(jobId);
      if (acked.length >= killAfter && !killed) {
        // kill -9 the moment the answer arrived: requests of the same group are still in flight
        killed = true;
        process.kill(s.child.pid as number, 'SIGKILL');
      }
    }
  };
  return Promise.all(Array.from({ length: IN_FLIGHT }, one)).then(() => ({ acked, killed }));
}

describe('a 201 is durable', () => {
  it(`kill -9 right after 201s, ${ROUNDS} rounds: no acknowledged jobId is lost`, async () => {
    const env = sluiceEnv(join(dir, 'home'));
    const all: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      served = await serve(['-w', '1'], { env });
      const { acked, killed } = await submitUntilKilled(served, 30);
      expect(killed).toBe(true);
      expect(await served.exited).toMatchObject({ signal: 'SIGKILL' });
      all.push(...acked);
    }
    const listed = await sluice(['exec', 'jobs', '--json', '--limit', '10000'], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const known = new Set((JSON.parse(listed.stdout) as { jobId: string }[]).map((j) => j.jobId));
    const lost = all.filter((id) => !known.has(id));
    if (process.env.SLUICE_TEST_FIGURES) {
      console.error(`acknowledged ${all.length} jobIds over ${ROUNDS} kill -9 rounds; lost ${lost.length}`);
    }
    expect(all.length).toBeGreaterThanOrEqual(ROUNDS * 30);
    expect(lost).toEqual([]);
  });
});
