// Many tasks of several kinds at once on a small pool, some stopped, some timed out: every task
// resolves with its own result, capacity is handed on, and nothing outlives close().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome, TaskSpec } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, isAlive, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

let dir: TempDir;
let py: AlgorithmDefinition;
let js: AlgorithmDefinition;
let cmd: AlgorithmDefinition;

beforeAll(async () => {
  dir = await tempDir();
  py = algorithm('py', 'python', {
    codePath: await dir.code('py', {
      'main.py':
        'import time\ndef start(args):\n    time.sleep(args["input"][1])\n    return ["py", args["input"][0]]\n',
    }),
  });
  js = algorithm('js', 'nodejs', {
    codePath: await dir.code('js', {
      'index.cjs':
        'exports.start = (args) => new Promise((r) => setTimeout(() => r(["js", args.input[0]]), args.input[1] * 1000));\n',
    }),
    entryPoint: 'index.cjs',
  });
  cmd = algorithm('cmd', 'command', {
    command: [
      'python3',
      '-c',
      'import json,sys; a=json.load(sys.stdin); print(json.dumps(["cmd", a["input"][0]]))',
    ],
  });
});

afterAll(async () => {
  await dir.remove();
});

describe('WorkerPool under mixed load', () => {
  it('500 echo tasks at once on one slot all come back with their own input', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 1 });
    try {
      const outcomes = await Promise.all(
        Array.from({ length: 500 }, (_, i) => pool.run(task({ name: 'echo', env: 'builtin' }, [i]), never)),
      );
      expect(outcomes.map((o) => (o.status === 'succeeded' ? o.result : o.error))).toEqual(
        Array.from({ length: 500 }, (_, i) => [i]),
      );
    } finally {
      await pool.close();
    }
  });

  it('python, nodejs, command and builtin tasks share two slots; stops and ttls do not leak capacity', async () => {
    const pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, killGraceMs: 300 });
    const seen = new Set<number>();
    try {
      const kinds = [py, js, cmd, { name: 'echo', env: 'builtin' as const }];
      const runs: { spec: TaskSpec; outcome: Promise<TaskOutcome>; fate: 'ok' | 'stop' | 'ttl' }[] = [];
      for (let i = 0; i < 40; i++) {
        const alg = kinds[i % kinds.length]!;
        const fate = i % 7 === 3 ? 'stop' : i % 11 === 5 && alg.env !== 'builtin' ? 'ttl' : 'ok';
        const slow = fate === 'ok' ? 0.01 : 5;
        const stop = new AbortController();
        const spec = task(alg, [i, slow], fate === 'ttl' ? { timeoutMs: 300 } : {});
        if (fate === 'stop') setTimeout(() => stop.abort(), 100 + i * 10);
        runs.push({ spec, outcome: pool.run(spec, stop.signal), fate });
        if (i % 5 === 0) for (const pid of pool.pids()) seen.add(pid);
      }
      for (const { spec, outcome, fate } of runs) {
        const out = await outcome;
        for (const pid of pool.pids()) seen.add(pid);
        const i = spec.input[0];
        const expected = spec.algorithm.env === 'builtin' ? [i, spec.input[1]] : [spec.algorithm.name, i];
        if (fate === 'ok')
          expect(out, `task ${i}`).toEqual({
            status: 'succeeded',
            result: expected,
            logs: { stdout: [], stderr: [], truncated: false },
          });
        else if (out.status === 'failed')
          expect(out.stopped || out.timedOut, `task ${i}: ${out.error}`).toBe(true);
        else
          expect(spec.algorithm.env === 'builtin' || spec.algorithm.env === 'command', `task ${i}`).toBe(
            true,
          );
      }
      expect(pool.freeSlots('py', false)).toBe(2);
    } finally {
      await pool.close();
    }
    for (const pid of seen) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  });
});
