import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { CORE_BUILTIN_MODULES, WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { failed, isAlive, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

const FIXTURES = {
  url: pathToFileURL(`${import.meta.dirname}/../../fixtures/builtins.ts`).href,
  exportName: 'testBuiltins',
};
const builtin = (name: string) => ({ name, env: 'builtin' as const });

let dir: TempDir;
let pool: WorkerPool;

beforeAll(async () => {
  dir = await tempDir();
  pool = new WorkerPool({
    cacheDir: dir.path,
    maxWorkers: 2,
    ioTasksPerHost: 4,
    killGraceMs: 300,
    builtinModules: [...CORE_BUILTIN_MODULES, FIXTURES],
  });
});

afterAll(async () => {
  await pool.close();
  await dir.remove();
});

function pidOf(outcome: TaskOutcome): number {
  if (outcome.status !== 'succeeded') throw new Error(outcome.error);
  return (outcome.result as { pid: number }).pid;
}

describe('built-in algorithms', () => {
  it('echo returns its resolved input array', async () => {
    const input = [1, 'two', { three: [3] }, null];
    expect(await pool.run(task(builtin('echo'), input), never)).toEqual({
      status: 'succeeded',
      result: input,
      logs: { stdout: [], stderr: [], truncated: false },
    });
  });

  it('run in a separate host process, several io-bound ones at once', async () => {
    const started = Date.now();
    const outcomes = await Promise.all(
      [1, 2, 3, 4].map(() => pool.run(task(builtin('sleep'), [300]), never)),
    );
    const elapsed = Date.now() - started;
    const pids = new Set(outcomes.map(pidOf));
    expect(pids.size).toBe(1);
    expect(pids.has(process.pid)).toBe(false);
    expect(elapsed).toBeLessThan(1200); // four 300 ms sleeps overlapped, not 1200 ms in a row
  });

  it('returns ctx.log() lines as the task logs', async () => {
    expect(await pool.run(task(builtin('log'), ['a', 'b']), never)).toEqual({
      status: 'succeeded',
      result: 2,
      logs: { stdout: ['a', 'b'], stderr: [], truncated: false },
    });
  });

  it('fail with the error message (and no crash) for bad input, unknown names and bad results', async () => {
    const invalid = failed(await pool.run(task(builtin('invalid'), []), never));
    expect(invalid).toMatchObject({
      crashed: false,
      error: 'invalid: ValidationError: input[0] must be a path',
    });
    const unknown = failed(await pool.run(task(builtin('nope'), []), never));
    expect(unknown).toMatchObject({ crashed: false, error: "unknown built-in algorithm 'nope'" });
    expect(failed(await pool.run(task(builtin('bigint'), []), never)).error).toMatch(
      /not JSON-serializable.*BigInt/,
    );
  });

  it('a builtin that kills its host fails as crashed; the engine survives and a new host takes over', async () => {
    const before = pidOf(await pool.run(task(builtin('cpu'), []), never));
    const out = failed(await pool.run(task(builtin('crash'), []), never));
    expect(out.crashed).toBe(true);
    expect(out.error).toContain('exited with code 7');
    expect(out.error).toContain('host going down');
    expect(isAlive(before)).toBe(false);
    const after = pidOf(await pool.run(task(builtin('cpu'), []), never));
    expect(after).not.toBe(before);
  });

  it('an error thrown outside any await fails only its own task; the host and its neighbours live on', async () => {
    const host = pidOf(await pool.run(task(builtin('cpu'), []), never));
    const [neighbour, thrower] = await Promise.all([
      pool.run(task(builtin('sleep'), [400]), never),
      pool.run(task(builtin('throw-later'), []), never),
    ]);
    expect(failed(thrower)).toMatchObject({ crashed: false });
    expect(failed(thrower).error).toContain("uncaught error in 'throw-later': stray failure");
    expect(pidOf(neighbour)).toBe(host);
    expect(isAlive(host)).toBe(true);
  });

  it('stop and ttl end a builtin through its AbortSignal, without killing the host', async () => {
    const host = pidOf(await pool.run(task(builtin('cpu'), []), never));
    const timed = failed(await pool.run(task(builtin('wait'), [], { timeoutMs: 100 }), never));
    expect(timed).toMatchObject({ timedOut: true, crashed: false, logs: { stdout: ['waiting'] } });
    const stop = new AbortController();
    const running = pool.run(task(builtin('wait'), []), stop.signal);
    setTimeout(() => stop.abort(), 50);
    expect(failed(await running)).toMatchObject({ stopped: true, crashed: false });
    expect(pidOf(await pool.run(task(builtin('cpu'), []), never))).toBe(host);
  });

  it('a builtin that ignores its AbortSignal is ended by killing its host after the grace', async () => {
    const host = pidOf(await pool.run(task(builtin('cpu'), []), never));
    const stop = new AbortController();
    const started = Date.now();
    const running = pool.run(task(builtin('stubborn'), []), stop.signal);
    setTimeout(() => stop.abort(), 50);
    expect(failed(await running)).toMatchObject({ stopped: true });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(isAlive(host)).toBe(false);
  });

  it('counts free slots: io-bound tasks share a host slot, CPU-bound ones take it whole', async () => {
    // 2 slots x 4 io tasks per host.
    await pool.run(task(builtin('cpu'), []), never);
    expect(pool.freeSlots('sleep', true)).toBe(8);
    expect(pool.freeSlots('cpu', false)).toBe(2);
    const running = [
      pool.run(task(builtin('sleep'), [200]), never),
      pool.run(task(builtin('sleep'), [200]), never),
    ];
    expect(pool.freeSlots('sleep', true)).toBe(6);
    expect(pool.freeSlots('cpu', false)).toBe(1);
    await Promise.all(running);
  });

  it('runs an inProcess built-in in the pool process: same outcomes, slots shared like io-bound ones', async () => {
    const one = await pool.run(task(builtin('in-process-sleep'), [10]), never);
    expect(one).toEqual({
      status: 'succeeded',
      result: { pid: process.pid },
      logs: { stdout: ['waiting 10'], stderr: [], truncated: false },
    });
    expect(failed(await pool.run(task(builtin('in-process-sleep'), [-1]), never))).toMatchObject({
      failure: { type: 'algorithm-error', code: 'NEGATIVE' },
    });
    // 2 slots x 4: an idle host is retired to make room, so all 8 fit; a 9th waits.
    const free = pool.freeSlots('in-process-sleep', true);
    const started = Date.now();
    const runs = Array.from({ length: 9 }, () => pool.run(task(builtin('in-process-sleep'), [300]), never));
    expect(free).toBe(8);
    expect(pool.freeSlots('in-process-sleep', true)).toBe(0);
    expect(pool.freeSlots('cpu', false)).toBe(0);
    await Promise.all(runs);
    expect(Date.now() - started).toBeGreaterThanOrEqual(590); // the 9th ran after one of the first 8
    const stop = new AbortController();
    const stopped = pool.run(task(builtin('in-process-sleep'), [10_000]), stop.signal);
    setTimeout(() => stop.abort(), 30);
    expect(failed(await stopped)).toMatchObject({ stopped: true });
    expect(pool.freeSlots('in-process-sleep', true)).toBe(8);
  });
});
