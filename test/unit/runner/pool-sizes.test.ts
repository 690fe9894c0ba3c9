// Slot accounting by size: an algorithm's `cpu` and `mem` take from the pool's CPU and memory
// budgets, so a task that would oversubscribe the machine waits (or, too big for it, fails at once).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { poolCapacityFromEnv } from '../../../shared/runtime/pool-capacity.ts';
import { algorithm, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

// ["barrier", DIR, N]: registers in DIR and waits (up to 20 s) until N tasks have: `met` says
// whether N ran at once. ["alone", DIR, S]: holds DIR/lock for S seconds; a task that finds it held
// (two ran at once) fails. No timing is asserted, so a loaded machine cannot fail these tests.
const PY = `
import os, time, uuid
def start(args):
    mode, d, n = args["input"]
    os.makedirs(d, exist_ok=True)
    if mode == "barrier":
        open(os.path.join(d, uuid.uuid4().hex), "w").close()
        deadline = time.time() + 20
        while len(os.listdir(d)) < n and time.time() < deadline:
            time.sleep(0.02)
        return {"pid": os.getpid(), "met": len(os.listdir(d)) >= n}
    lock = os.path.join(d, "lock")
    fd = os.open(lock, os.O_CREAT | os.O_EXCL)
    time.sleep(n)
    os.close(fd)
    os.remove(lock)
    return {"pid": os.getpid(), "met": True}
`;

interface Ran {
  pid: number;
  met: boolean;
}

let dir: TempDir;
let code: string;
let rooms = 0;
const sized = (name: string, fields: Partial<AlgorithmDefinition>) =>
  algorithm(name, 'python', { codePath: code, ...fields });
/** A fresh directory (made by the task) for one barrier or lock. */
const room = () => `${dir.path}/room-${++rooms}`;

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

const runAll = (pool: WorkerPool, alg: AlgorithmDefinition, inputs: unknown[][]) =>
  Promise.all(inputs.map((input) => pool.run(task(alg, input), never))).then((outs) => outs.map(ran));

describe('WorkerPool CPU and memory accounting', () => {
  it('a task whose cpu does not fit beside a running one waits for it, though slots are free', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 2 });
    try {
      const lock = room();
      const first = pool.run(task(sized('big', { cpu: 2 }), ['alone', lock, 0.5]), never);
      await new Promise((r) => setTimeout(r, 10));
      const second = pool.run(task(sized('small', { cpu: 1 }), ['alone', lock, 0]), never);
      await new Promise((r) => setTimeout(r, 10));
      expect(pool.stats()).toMatchObject({ usedSlots: 1, queued: 1 });
      expect([ran(await first).met, ran(await second).met]).toEqual([true, true]);
    } finally {
      await pool.close();
    }
  });

  it('tasks that fit together run together (fractional cpus add up)', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 1 });
    try {
      const barrier = room();
      const runs = await runAll(
        pool,
        sized('half', { cpu: 0.5 }),
        [0, 1].map(() => ['barrier', barrier, 2]),
      );
      expect(runs.map((r) => r.met)).toEqual([true, true]);
    } finally {
      await pool.close();
    }
  });

  it('mem counts the same way: two 600Mi tasks on a 1000Mi pool run one after the other', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, memoryMiB: 1000 });
    try {
      const lock = room();
      const runs = await runAll(
        pool,
        sized('heavy', { mem: '600Mi' }),
        [0, 1].map(() => ['alone', lock, 0.3]),
      );
      expect(runs.map((r) => r.met)).toEqual([true, true]);
      expect(runs[0]!.pid).toBe(runs[1]!.pid); // the second reused the hot process the first left idle
    } finally {
      await pool.close();
    }
  });

  it('an idle process is retired to make room for another algorithm only when that makes enough room', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 4, cpus: 3 });
    try {
      const one = ran(await pool.run(task(sized('one', { cpu: 1 }), ['barrier', room(), 1]), never));
      const barrier = room();
      const two = pool.run(task(sized('two', { cpu: 2 }), ['barrier', barrier, 2]), never);
      for (let i = 0; i < 500 && pool.stats().busyProcesses < 1; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(pool.pids()).toContain(one.pid); // 1 + 2 fit in 3: nothing retired
      const three = ran(await pool.run(task(sized('three', { cpu: 1 }), ['barrier', barrier, 2]), never));
      expect(pool.pids()).not.toContain(one.pid); // 3 CPUs taken: the idle `one` made room
      expect([three.met, ran(await two).met]).toEqual([true, true]); // and `three` ran beside `two`
    } finally {
      await pool.close();
    }
  });

  it('undeclared algorithms count one CPU each, and the default budget follows --workers', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 6 });
    try {
      const barrier = room();
      const runs = await runAll(
        pool,
        sized('plain', {}),
        [1, 2, 3, 4, 5, 6].map(() => ['barrier', barrier, 6]),
      );
      expect(runs.map((r) => r.met)).toEqual([true, true, true, true, true, true]);
    } finally {
      await pool.close();
    }
  });

  it('a task larger than the whole pool fails at once, saying which budget and how to raise it', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, cpus: 2, memoryMiB: 512 });
    try {
      const out = await pool.run(task(sized('huge', { cpu: 4 }), ['barrier', room(), 1]), never);
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
