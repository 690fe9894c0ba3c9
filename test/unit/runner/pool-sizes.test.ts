// Slot accounting by size: an algorithm's `cpu` and `mem` take from the pool's CPU and memory
// budgets, so a task that would oversubscribe the machine waits (or, too big for it, fails at once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { poolCapacityFromEnv } from '../../../shared/runtime/pool-capacity.ts';
import { algorithm, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

// Sleeps input[0] seconds; answers when it ran and in which process.
const PY = `
import os, time
def start(args):
    began = time.time()
    time.sleep(args["input"][0])
    return {"pid": os.getpid(), "began": began, "ended": time.time()}
`;

interface Ran {
  pid: number;
  began: number;
  ended: number;
}

let dir: TempDir;
let code: string;
const sized = (name: string, fields: Partial<AlgorithmDefinition>) =>
  algorithm(name, 'python', { codePath: code, ...fields });

beforeAll(async () => {
  dir = await tempDir();
  code = await dir.code('py', { 'main.py': PY });
});

afterAll(async () => {
  await dir.remove();
});

function ran(outcome: TaskOutcome): Ran {
  if (outcome.status !== 'succeeded') throw new Error(outcome.error);
  return outcome.result as Ran;
}

const overlap = (a: Ran, b: Ran) => a.began < b.ended && b.began < a.ended;

describe('WorkerPool CPU and memory accounting', () => {
  it('a task whose cpu does not fit beside a running one waits for it, though slots are free', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 2 });
    try {
      const big = sized('big', { cpu: 2 });
      const small = sized('small', { cpu: 1 });
      const first = pool.run(task(big, [0.4]), never);
      await new Promise((r) => setTimeout(r, 100));
      const second = pool.run(task(small, [0]), never);
      await new Promise((r) => setTimeout(r, 10));
      expect(pool.stats()).toMatchObject({ usedSlots: 1, queued: 1 });
      const [a, b] = [ran(await first), ran(await second)];
      expect(overlap(a, b)).toBe(false);
      expect(b.began).toBeGreaterThanOrEqual(a.ended);
    } finally {
      await pool.close();
    }
  });

  it('tasks that fit together run together (fractional cpus add up)', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 1 });
    try {
      const tenth = sized('tenth', { cpu: 0.5 });
      const [a, b] = (await Promise.all([0, 1].map(() => pool.run(task(tenth, [0.3]), never)))).map(ran);
      expect(overlap(a!, b!)).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('mem counts the same way: two 600Mi tasks on a 1000Mi pool run one after the other', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, memoryMiB: 1000 });
    try {
      const heavy = sized('heavy', { mem: '600Mi' });
      const [a, b] = (await Promise.all([0, 1].map(() => pool.run(task(heavy, [0.3]), never)))).map(ran);
      expect(overlap(a!, b!)).toBe(false);
      expect(a!.pid).toBe(b!.pid); // the second reused the hot process the first left idle
    } finally {
      await pool.close();
    }
  });

  it('an idle process is retired to make room for another algorithm only when that makes enough room', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 3 });
    try {
      const one = ran(await pool.run(task(sized('one', { cpu: 1 }), [0]), never));
      const two = pool.run(task(sized('two', { cpu: 2 }), [0.4]), never);
      await new Promise((r) => setTimeout(r, 100));
      expect(pool.pids()).toContain(one.pid); // 1 + 2 fit in 3: nothing retired
      const three = ran(await pool.run(task(sized('three', { cpu: 1 }), [0]), never));
      expect(pool.pids()).not.toContain(one.pid); // 3 CPUs taken: the idle `one` made room
      expect(three.began).toBeLessThan(ran(await two).ended); // and it did not wait for `two`
    } finally {
      await pool.close();
    }
  });

  it('undeclared algorithms count one CPU each, and the default budget follows --workers', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 6 });
    try {
      const plain = sized('plain', {});
      const runs = (await Promise.all([0, 1, 2, 3, 4, 5].map(() => pool.run(task(plain, [0.3]), never)))).map(
        ran,
      );
      expect(new Set(runs.map((r) => r.pid)).size).toBe(6);
      expect(runs.every((r) => overlap(r, runs[0]!))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a task larger than the whole pool fails at once, saying which budget and how to raise it', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, cpus: 2, memoryMiB: 512 });
    try {
      const out = await pool.run(task(sized('huge', { cpu: 4 }), [0]), never);
      expect(out).toMatchObject({ status: 'failed', crashed: false, failure: { type: 'invalid-input' } });
      expect(out.status === 'failed' && out.error).toBe(
        "algorithm 'huge' asks for cpu 4, more than this machine's worker pool has (2 CPUs; SLUICE_CPUS sets it)",
      );
      const cmd = algorithm('fat', 'command', { command: ['true'], mem: '1Gi' });
      const fat = await pool.run(task(cmd, []), never);
      expect(fat.status === 'failed' && fat.error).toMatch(
        /'fat' asks for mem 1024Mi.*\(512Mi; SLUICE_MEMORY/,
      );
      expect(pool.pids()).toEqual([]);
    } finally {
      await pool.close();
    }
  });

  it('reads SLUICE_CPUS and SLUICE_MEMORY, refusing bad values by name', () => {
    expect(poolCapacityFromEnv({ SLUICE_CPUS: '3.5', SLUICE_MEMORY: '2Gi' })).toEqual({
      cpus: 3.5,
      memoryMiB: 2048,
    });
    expect(poolCapacityFromEnv({})).toEqual({});
    expect(() => poolCapacityFromEnv({ SLUICE_CPUS: 'four' })).toThrow(
      'SLUICE_CPUS must be a number of CPUs > 0, not "four"',
    );
    expect(() => poolCapacityFromEnv({ SLUICE_MEMORY: '2GB' })).toThrow(
      /SLUICE_MEMORY must be a memory quantity/,
    );
    expect(() => new WorkerPool({ cacheDir: dir.path, cpus: 0 })).toThrow(
      'worker pool: cpus must be a number > 0, got 0',
    );
  });
});
