// Per-task overhead of the local worker pool's builtin path (engine -> builtin host -> result),
// measured with the `echo` builtin, against Node's own IPC channel (fork + process.send) doing
// the same echo. Prints wall time per task and the engine process's CPU time per task.
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AlgorithmDefinition } from '../../shared/pipeline/types.ts';
import type { TaskSpec } from '../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../shared/runner/worker-pool.ts';
import type { BenchSuite } from '../types.ts';

const IPC_ECHO = fileURLToPath(new URL('../fixtures/ipc-echo.mjs', import.meta.url));

interface Figures {
  usPerTask: number;
  cpuUsPerTask: number;
  tasksPerSec: number;
}

/** Runs `total` calls of `one`, keeping `inFlight` outstanding. */
async function measure(
  total: number,
  inFlight: number,
  one: (i: number) => Promise<unknown>,
): Promise<Figures> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  let next = 0;
  const lane = async () => {
    while (next < total) await one(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const wallUs = Number(process.hrtime.bigint() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    usPerTask: wallUs / total,
    cpuUsPerTask: (used.user + used.system) / total,
    tasksPerSec: (total * 1e6) / wallUs,
  };
}

function echoTask(i: number, algorithm: TaskSpec['algorithm'] = { name: 'echo', env: 'builtin' }): TaskSpec {
  return {
    info: { jobId: 'bench', taskId: `t${i}`, nodeName: 'echo', pipelineName: 'bench', batchIndex: i + 1 },
    algorithm,
    input: [i, 'payload'],
  };
}

/** A Python echo served by a hot process, against one fresh `python3` process per task. */
async function pythonHotVsCold(pool: WorkerPool, cacheDir: string, never: AbortSignal): Promise<void> {
  const codePath = join(cacheDir, 'py-echo');
  await mkdir(codePath, { recursive: true });
  await writeFile(join(codePath, 'main.py'), 'def start(args):\n    return args["input"]\n');
  await writeFile(
    join(codePath, 'cold.py'),
    'import json, sys\nprint(json.dumps(json.load(sys.stdin)["input"]))\n',
  );
  const base = { codePath, minHotWorkers: 0 };
  const hot: AlgorithmDefinition = { ...base, name: 'py-hot', env: 'python', entryPoint: 'main.py' };
  const cold: AlgorithmDefinition = {
    ...base,
    name: 'py-cold',
    env: 'command',
    command: ['python3', 'cold.py'],
  };
  const coldFigures = await measure(50, 1, (i) => pool.run(echoTask(i, cold), never));
  await measure(200, 1, (i) => pool.run(echoTask(i, hot), never)); // start the process, warm up
  const hotFigures = await measure(2000, 1, (i) => pool.run(echoTask(i, hot), never));
  print('python3 process per task (command)', coldFigures);
  const ratio = coldFigures.usPerTask / hotFigures.usPerTask;
  print('python hot process', hotFigures);
  console.log(`  hot python: ${ratio.toFixed(0)}x the speed of a process per task`);
}

function print(label: string, f: Figures, baseline?: Figures): void {
  const ratio = baseline ? `  (${(baseline.usPerTask / f.usPerTask).toFixed(2)}x the speed of fork IPC)` : '';
  console.log(
    `${label.padEnd(34)} ${f.usPerTask.toFixed(1).padStart(7)} us/task wall  ` +
      `${f.cpuUsPerTask.toFixed(1).padStart(6)} us/task engine CPU  ${Math.round(f.tasksPerSec).toString().padStart(7)} tasks/s${ratio}`,
  );
}

export const workerDispatch: BenchSuite = {
  name: 'worker-dispatch',
  description: 'per-task overhead of the local worker pool (echo builtin via the builtin host) vs fork IPC',
  async run(args) {
    const total = Number(args.find((a) => a.startsWith('--tasks='))?.slice(8) ?? 20_000);
    const cacheDir = await mkdtemp(join(tmpdir(), 'sluice-bench-'));
    const pool = new WorkerPool({ cacheDir, maxWorkers: 1 });
    const never = new AbortController().signal;
    const child = fork(IPC_ECHO, [], { serialization: 'json' });
    const pending = new Map<number, () => void>();
    child.on('message', (m: { id: number }) => pending.get(m.id)?.());
    const ipc = (i: number) =>
      new Promise<void>((resolve) => {
        pending.set(i, () => {
          pending.delete(i);
          resolve();
        });
        child.send({ id: i, input: [i, 'payload'] });
      });
    try {
      // Warm up: host start (tsx), JIT.
      await measure(2000, 8, (i) => pool.run(echoTask(i), never));
      await measure(2000, 8, ipc);
      console.log(`${total} echo tasks, one builtin host (maxWorkers 1)`);
      for (const inFlight of [1, 8]) {
        const base = await measure(total, inFlight, ipc);
        const ours = await measure(total, inFlight, (i) => pool.run(echoTask(i), never));
        print(`fork IPC, ${inFlight} in flight`, base);
        print(`WorkerPool echo, ${inFlight} in flight`, ours, base);
      }
      console.log('python echo algorithm, one task at a time');
      await pythonHotVsCold(pool, cacheDir, never);
    } finally {
      child.kill();
      await pool.close();
      await rm(cacheDir, { recursive: true, force: true });
    }
  },
};
