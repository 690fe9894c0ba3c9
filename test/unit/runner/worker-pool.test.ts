import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, isAlive, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

// Returns its pid; with ["sleep", s] sleeps first; with ["spawn"] leaves a grandchild running.
const PY = `
import os, subprocess, time
def start(args):
    if args["input"][:1] == ["sleep"]:
        time.sleep(args["input"][1])
    if args["input"][:1] == ["spawn"]:
        child = subprocess.Popen(["sleep", "60"])
        return {"pid": os.getpid(), "grandchild": child.pid}
    return {"pid": os.getpid()}
`;
const JS = 'exports.start = () => ({ pid: process.pid });\n';

let dir: TempDir;
let pyA: AlgorithmDefinition;
let pyB: AlgorithmDefinition;
let js: AlgorithmDefinition;

beforeAll(async () => {
  dir = await tempDir();
  const pyCode = await dir.code('py', { 'main.py': PY });
  pyA = algorithm('a', 'python', { codePath: pyCode });
  pyB = algorithm('b', 'python', { codePath: pyCode });
  js = algorithm('js', 'nodejs', {
    codePath: await dir.code('js', { 'index.cjs': JS }),
    entryPoint: 'index.cjs',
  });
});

afterAll(async () => {
  await dir.remove();
});

function pidOf(outcome: TaskOutcome): number {
  if (outcome.status !== 'succeeded') throw new Error(outcome.error);
  return (outcome.result as { pid: number }).pid;
}

async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !isAlive(pid);
}

describe('WorkerPool slots', () => {
  it('retires the least recently used idle process of another algorithm to make room', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2 });
    try {
      const a = pidOf(await pool.run(task(pyA, []), never));
      const j = pidOf(await pool.run(task(js, []), never));
      expect(pool.freeSlots('b', false)).toBe(2); // nothing free, but two idle processes to retire
      const b = pidOf(await pool.run(task(pyB, []), never));
      expect(await gone(a)).toBe(true); // `a` was the least recently used
      expect(isAlive(j)).toBe(true);
      expect(pool.pids().sort()).toEqual([j, b].sort());
    } finally {
      await pool.close();
    }
  });

  it('counts a task from the moment run() is called, while its code is still being resolved', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2 });
    try {
      expect(pool.freeSlots('a', false)).toBe(2);
      const first = pool.run(task(pyA, []), never); // resolves its code before it asks for a slot
      expect(pool.freeSlots('a', false)).toBe(1);
      const second = pool.run(task(pyB, []), never);
      expect(pool.freeSlots('a', false)).toBe(0);
      await Promise.all([first, second]);
      expect(pool.freeSlots('a', false)).toBe(2); // two idle processes, each free to reuse or retire
    } finally {
      await pool.close();
    }
  });

  it('queues a task while every slot is busy and starts it when one frees; a stop while queued ends it', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 1 });
    try {
      const first = pool.run(task(pyA, ['sleep', 0.5]), never);
      await new Promise((r) => setTimeout(r, 100));
      expect(pool.freeSlots('b', false)).toBe(0);
      const stop = new AbortController();
      const stopped = pool.run(task(pyB, []), stop.signal);
      const queued = pool.run(task(pyB, []), never);
      await new Promise((r) => setTimeout(r, 10));
      expect(pool.stats()).toMatchObject({ maxWorkers: 1, usedSlots: 1, busyProcesses: 1, queued: 2 });
      stop.abort();
      expect(await stopped).toMatchObject({ status: 'failed', stopped: true });
      const a = pidOf(await first);
      const b = pidOf(await queued);
      expect(b).not.toBe(a);
      expect(await gone(a)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('warmUp() starts minHotWorkers processes that then serve tasks', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 3 });
    try {
      const warm = { ...pyA, minHotWorkers: 2 };
      await pool.warmUp(warm);
      const warmed = pool.pids();
      expect(warmed).toHaveLength(2);
      const pids = await Promise.all(
        [1, 2].map(() => pool.run(task(warm, ['sleep', 0.2]), never).then(pidOf)),
      );
      expect(pids.sort()).toEqual(warmed.sort());
    } finally {
      await pool.close();
    }
  });

  it('retires processes idle past idleTimeoutMs, except those minHotWorkers keeps', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 3, idleTimeoutMs: 150 });
    try {
      const kept = pidOf(await pool.run(task({ ...pyA, minHotWorkers: 1 }, []), never));
      const idle = pidOf(await pool.run(task(pyB, []), never));
      expect(await gone(idle)).toBe(true);
      expect(isAlive(kept)).toBe(true);
      expect(pool.pids()).toEqual([kept]);
    } finally {
      await pool.close();
    }
  });

  it('makes room by retiring a process minHotWorkers does not keep, even if a kept one is older', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2 });
    try {
      const kept = pidOf(await pool.run(task({ ...pyA, minHotWorkers: 1 }, []), never));
      const other = pidOf(await pool.run(task(pyB, []), never));
      const j = pidOf(await pool.run(task(js, []), never));
      expect(await gone(other)).toBe(true);
      expect(pool.pids().sort()).toEqual([kept, j].sort());
    } finally {
      await pool.close();
    }
  });

  it('close() kills hot processes, builtin hosts, commands and their children, and waits for them', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, killGraceMs: 500 });
    const spawned = await pool.run(task(pyA, ['spawn']), never);
    const { pid, grandchild } = (spawned as { result: { pid: number; grandchild: number } }).result;
    const busy = pool.run(task(pyB, ['sleep', 30]), never);
    const cmd = algorithm('cmd', 'command', { command: ['sleep', '30'] });
    const command = pool.run(task(cmd, []), never);
    await pool.run(task({ name: 'echo', env: 'builtin' }, [1]), never);
    await new Promise((r) => setTimeout(r, 200));
    const pids = pool.pids();
    expect(pids).toHaveLength(4);
    expect(isAlive(grandchild)).toBe(true);

    await pool.close();
    for (const p of [...pids, pid, grandchild]) expect(await gone(p), `pid ${p}`).toBe(true);
    expect(await busy).toMatchObject({ status: 'failed', crashed: true });
    expect(await command).toMatchObject({ status: 'failed' });
    expect(await pool.run(task(pyA, []), never)).toMatchObject({
      status: 'failed',
      error: 'the worker pool is closed',
    });
    expect(pool.freeSlots('a', false)).toBe(0);
  });
});

describe('WorkerPool close() racing new tasks', () => {
  it('tasks submitted just before close() all resolve and leave no process behind', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2 });
    const cmd = algorithm('cmd', 'command', { command: ['sleep', '30'] });
    const algs = [pyA, pyB, js, cmd, { name: 'echo', env: 'builtin' as const }];
    const outcomes = algs.flatMap((alg) => [pool.run(task(alg, []), never), pool.run(task(alg, []), never)]);
    await new Promise((r) => setTimeout(r, 50));
    const pids = pool.pids();
    await pool.close();
    const settled = await Promise.all(outcomes);
    expect(settled).toHaveLength(10);
    for (const out of settled) expect(['succeeded', 'failed']).toContain(out.status);
    for (const pid of pids) expect(await gone(pid), `pid ${pid}`).toBe(true);
    expect(pool.pids()).toEqual([]);
  });
});

describe('WorkerPool setup failures', () => {
  it('rejects bad options with a message naming the option', () => {
    expect(() => new WorkerPool({ cacheDir: dir.path, maxWorkers: 0 })).toThrow(
      'worker pool: maxWorkers must be an integer >= 1, got 0',
    );
    expect(() => new WorkerPool({ cacheDir: dir.path, killGraceMs: Number.NaN })).toThrow(/killGraceMs/);
  });

  it('a missing interpreter fails the task with a clear message, and the pool keeps working', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 1, python: '/no/such/python3' });
    try {
      const out = await pool.run(task(pyA, []), never);
      expect(out).toMatchObject({ status: 'failed', crashed: false });
      expect(out.status === 'failed' && out.error).toMatch(
        /could not start the a process \(\/no\/such\/python3\).*ENOENT/,
      );
      expect(pool.pids()).toEqual([]);
      expect(pidOf(await pool.run(task(js, []), never))).toBeGreaterThan(0);
    } finally {
      await pool.close();
    }
  });
});
