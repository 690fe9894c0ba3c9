// Algorithms with an `image` on one machine, through a stand-in `docker` on PATH that records its
// argv and runs the container's command locally (test/helpers/fake-container-runtime.mjs): the whole
// path — runtime lookup, run argv with mounts and limits, the host script and its FIFO channels
// through the bridge, stop — runs offline. What a real runtime adds (isolation, the image's own
// interpreter, limits enforced) is not exercised here.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { type FakeRuntime, installFakeRuntime } from '../../helpers/container-runtime.ts';
import { algorithm, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

const PY = `
import os, time
def start(args):
    if args["input"][:1] == ["sleep"]:
        time.sleep(args["input"][1])
    print("hello from", os.getcwd())
    return {"pid": os.getpid(), "sum": sum(x for x in args["input"] if isinstance(x, int))}
`;
const JS = 'exports.start = (args) => ({ pid: process.pid, doubled: args.input.map((x) => x * 2) });\n';
const WC = 'import json, sys\nprint(json.dumps(len(json.load(sys.stdin)["input"])))\n';

let dir: TempDir;
let fake: FakeRuntime;
let py: AlgorithmDefinition;
let js: AlgorithmDefinition;
let cmd: AlgorithmDefinition;

beforeAll(async () => {
  dir = await tempDir();
  fake = await installFakeRuntime(dir.path, ['docker', 'podman']);
  py = algorithm('py-img', 'python', {
    codePath: await dir.code('py', { 'main.py': PY }),
    entryPoint: 'main.py',
    image: 'python:3.12-slim',
    cpu: 0.5,
    mem: '256Mi',
  });
  js = algorithm('js-img', 'nodejs', {
    codePath: await dir.code('js', { 'index.cjs': JS }),
    entryPoint: 'index.cjs',
    image: 'node:22-slim',
  });
  cmd = algorithm('wc-img', 'command', {
    codePath: await dir.code('wc', { 'wc.py': WC }),
    command: ['python3', 'wc.py'],
    image: 'python:3.12-slim',
    mem: '1Gi',
  });
});

afterAll(async () => {
  await dir.remove();
});

const pathWith = (first: string) => `${first}:${process.env.PATH}`;
const pool = (env: NodeJS.ProcessEnv = {}) =>
  new WorkerPool({
    cacheDir: dir.path,
    maxWorkers: 2,
    killGraceMs: 500,
    env: { ...process.env, ...fake.env, PATH: pathWith(fake.bin), ...env },
  });

function result<T>(outcome: TaskOutcome): T {
  if (outcome.status !== 'succeeded') throw new Error(outcome.error);
  return outcome.result as T;
}

/** The `run` calls since `from` (the `stop` a closing pool's bridge starts may land any time later). */
async function runsSince(from: number): Promise<string[][]> {
  return (await fake.calls()).slice(from).filter((call) => call[0] === 'run');
}

describe('image algorithms through docker (stand-in runtime)', () => {
  it('python: one hot container serves task after task; run argv has the mounts, limits and injected host', async () => {
    const p = pool();
    const before = (await fake.calls()).length;
    try {
      const first = await p.run(task(py, [1, 2]), never);
      const second = await p.run(task(py, [3, 4]), never);
      const a = result<{ pid: number; sum: number }>(first);
      const b = result<{ pid: number; sum: number }>(second);
      expect([a.sum, b.sum]).toEqual([3, 7]);
      expect(b.pid).toBe(a.pid); // the same container process, not one per task
      expect(first.logs.stdout).toEqual([`hello from ${py.codePath}`]); // logs pass through the runtime

      const calls = await runsSince(before);
      expect(calls).toHaveLength(1);
      const run = calls[0]!;
      const name = run[run.indexOf('--name') + 1]!;
      expect(name).toMatch(/^sluice-py-img-[0-9a-f]{12}$/);
      const pipes = run.find((a) => a.endsWith(':/sluice/pipes'))!;
      expect(run.slice(0, 9)).toEqual([
        'run',
        '--rm',
        '--init',
        '--name',
        name,
        '--cpus',
        '0.5',
        '--memory',
        '256m',
      ]);
      expect(run).toContain(`${py.codePath}:/sluice/code:ro`);
      expect(run[run.indexOf('-w') + 1]).toBe('/sluice/code');
      expect(run.find((a) => a.endsWith(':/sluice/host/python_host.py:ro'))).toMatch(
        /shared\/runner\/python_host\.py:/,
      );
      expect(run).toContain('SLUICE_HOST_PIPES=/sluice/pipes');
      const image = run.indexOf('python:3.12-slim');
      expect(run.slice(image + 1, image + 6)).toEqual([
        'python3',
        '-u',
        '/sluice/host/python_host.py',
        '/sluice/code',
        'main.py',
      ]);
      expect(run.slice(image + 6)).toHaveLength(1); // the end-of-task marker
      expect(existsSync(pipes.split(':')[0]!)).toBe(true); // the FIFOs live while the process does
    } finally {
      await p.close();
    }
  });

  it('nodejs: the image runs the node host; undeclared cpu/mem set no limits', async () => {
    const p = pool();
    const before = (await fake.calls()).length;
    try {
      expect(result<{ doubled: number[] }>(await p.run(task(js, [1, 2]), never)).doubled).toEqual([2, 4]);
      const [run] = await runsSince(before);
      expect(run).not.toContain('--cpus');
      expect(run).not.toContain('--memory');
      const image = run!.indexOf('node:22-slim');
      expect(run!.slice(image + 1, image + 5)).toEqual([
        'node',
        '/sluice/host/node_host.mjs',
        '/sluice/code',
        'index.cjs',
      ]);
    } finally {
      await p.close();
    }
  });

  it('warmUp starts minHotWorkers containers ahead; the first task uses one', async () => {
    const p = pool();
    const warm = { ...js, minHotWorkers: 1 };
    const before = (await fake.calls()).length;
    try {
      await p.warmUp(warm);
      const [pid] = p.pids();
      expect(pid).toBeGreaterThan(0);
      expect(result<{ doubled: number[] }>(await p.run(task(warm, [3]), never)).doubled).toEqual([6]);
      expect(p.pids()).toEqual([pid]);
      expect(await runsSince(before)).toHaveLength(1);
    } finally {
      await p.close();
    }
  });

  it('command: one container per task, the task on its stdin (-i), the result from its stdout', async () => {
    const p = pool();
    const before = (await fake.calls()).length;
    try {
      expect(result<number>(await p.run(task(cmd, ['a', 'b', 'c']), never))).toBe(3);
      expect(result<number>(await p.run(task(cmd, ['a']), never))).toBe(1);
      const calls = await runsSince(before);
      expect(calls).toHaveLength(2);
      const run = calls[0]!;
      expect(run.slice(0, 4)).toEqual(['run', '--rm', '--init', '--name']);
      expect(run.slice(5)).toEqual([
        '-i',
        '--memory',
        '1024m',
        '-v',
        `${cmd.codePath}:/sluice/code:ro`,
        '-w',
        '/sluice/code',
        'python:3.12-slim',
        'python3',
        'wc.py',
      ]);
    } finally {
      await p.close();
    }
  });

  it('a node ttl stops the container: the runtime is told to stop it and its process is gone', async () => {
    const p = pool();
    const before = (await fake.calls()).length;
    try {
      const out = await p.run(task(py, ['sleep', 30], { timeoutMs: 2000 }), never);
      expect(out).toMatchObject({ status: 'failed', timedOut: true });
      const [run] = await runsSince(before);
      const name = run![run!.indexOf('--name') + 1]!;
      // `stop` runs detached (it must outlive the bridge's group): it shows up a moment later.
      const stopped = async () => (await fake.calls()).some((c) => c.join(' ') === `stop --time 1 ${name}`);
      for (let i = 0; i < 100 && !(await stopped()); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await stopped()).toBe(true);
      expect(p.pids()).toEqual([]);
      // a fresh container serves the next task
      expect(result<{ sum: number }>(await p.run(task(py, [5]), never)).sum).toBe(5);
    } finally {
      await p.close();
    }
  });

  it('SLUICE_CONTAINER_RUNTIME chooses the runtime (podman here, though docker is first on PATH)', async () => {
    const p = pool({ SLUICE_CONTAINER_RUNTIME: 'podman' });
    try {
      expect(result<number>(await p.run(task(cmd, [1]), never))).toBe(1);
    } finally {
      await p.close();
    }
    const wrong = pool({ SLUICE_CONTAINER_RUNTIME: 'nerdctl' });
    try {
      const out = await wrong.run(task(py, [1]), never);
      expect(out).toMatchObject({ status: 'failed', crashed: false, failure: { type: 'invalid-input' } });
      expect(out.status === 'failed' && out.error).toBe(
        "algorithm 'py-img' runs in image 'python:3.12-slim', but SLUICE_CONTAINER_RUNTIME is 'nerdctl', which is not an executable on PATH",
      );
    } finally {
      await wrong.close();
    }
  });

  it("images: 'ignore' (the AWS worker, for now) runs the algorithm as a local process, calling no runtime", async () => {
    const p = new WorkerPool({
      cacheDir: dir.path,
      maxWorkers: 1,
      images: 'ignore',
      env: { ...process.env, ...fake.env, PATH: pathWith(fake.bin) },
    });
    const before = (await fake.calls()).length;
    try {
      expect(result<{ sum: number }>(await p.run(task(py, [2, 3]), never)).sum).toBe(5);
      expect(result<number>(await p.run(task(cmd, [1, 2]), never))).toBe(2);
      expect((await fake.calls()).length).toBe(before);
    } finally {
      await p.close();
    }
  });

  it('without docker or podman, an image algorithm fails at once with a clear message; others still run', async () => {
    const bare = await dir.code('bare-bin', { README: 'no runtime here\n' });
    const p = pool({ PATH: `${bare}:/nonexistent` });
    try {
      for (const alg of [py, cmd]) {
        const out = await p.run(task(alg, [1]), never);
        expect(out).toMatchObject({ status: 'failed', crashed: false, failure: { type: 'invalid-input' } });
        expect(out.status === 'failed' && out.error).toBe(
          `algorithm '${alg.name}' runs in image 'python:3.12-slim', but neither docker nor podman is on PATH: install one (or set SLUICE_CONTAINER_RUNTIME to its path) to run algorithms with an image`,
        );
      }
      expect(p.pids()).toEqual([]);
      const echo = await p.run(task({ name: 'echo', env: 'builtin' }, [7]), never);
      expect(result<unknown[]>(echo)).toEqual([7]);
    } finally {
      await p.close();
    }
  });
});
