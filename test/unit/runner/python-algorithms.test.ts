import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, failed, isAlive, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

const MAIN = `
import asyncio, os, sys, time

calls = {"init": 0}

def init(args):
    calls["init"] += 1

def start(args):
    mode = args["input"][0]
    if mode == "pid":
        return {"pid": os.getpid(), "init": calls["init"], "info": args["info"]}
    if mode == "print":
        print("to stdout")
        print("to stderr", file=sys.stderr)
        print("no newline", end="")
        return "result"
    if mode == "raise":
        raise ValueError("bad value " + str(args["input"][1]))
    if mode == "crash":
        print("about to die", file=sys.stderr, flush=True)
        os._exit(3)
    if mode == "sleep":
        print("sleeping", flush=True)
        time.sleep(args["input"][1])
        return "woke"
    if mode == "set":
        return {1, 2}
    if mode == "nan":
        return float("nan")
    if mode == "chatty":
        for i in range(args["input"][1]):
            print("line", i)
        return "done"
    if mode == "big":
        return ["x" * 1000] * args["input"][1]
    if mode == "garbage":
        os.write(4, b"this is not a response\\n")
        time.sleep(5)
    return args["input"]
`;

const ASYNC_MAIN = `
import asyncio

async def start(args):
    await asyncio.sleep(0.01)
    return sum(args["input"])
`;

let dir: TempDir;
let pool: WorkerPool;
let alg: AlgorithmDefinition;

beforeAll(async () => {
  dir = await tempDir();
  pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, killGraceMs: 500 });
  alg = algorithm('py', 'python', {
    codePath: await dir.code('py', { 'main.py': MAIN }),
    entryPoint: 'main.py',
  });
});

afterAll(async () => {
  await pool.close();
  await dir.remove();
});

describe('python algorithms', () => {
  it('serve many tasks from one hot process, calling init once, with args.input and args.info', async () => {
    const a = await pool.run(
      task(alg, ['pid'], {
        info: {
          jobId: 'j',
          taskId: 't1',
          nodeName: 'n',
          pipelineName: 'p',
          batchIndex: 2,
          extraData: { k: 1 },
        },
      }),
      never,
    );
    const b = await pool.run(task(alg, ['pid']), never);
    expect(a.status).toBe('succeeded');
    expect(b.status).toBe('succeeded');
    const ra = (a as { result: { pid: number; init: number; info: unknown } }).result;
    const rb = (b as { result: { pid: number; init: number } }).result;
    expect(rb.pid).toBe(ra.pid);
    expect(rb.init).toBe(1);
    expect(ra.info).toEqual({
      jobId: 'j',
      taskId: 't1',
      nodeName: 'n',
      pipelineName: 'p',
      batchIndex: 2,
      extraData: { k: 1 },
    });
  });

  it('captures print() as the task logs, never in the result', async () => {
    const out = await pool.run(task(alg, ['print']), never);
    expect(out).toEqual({
      status: 'succeeded',
      result: 'result',
      logs: { stdout: ['to stdout', 'no newline'], stderr: ['to stderr'], truncated: false },
    });
    // The next task's logs start empty: nothing leaks across tasks.
    const next = await pool.run(task(alg, ['echo']), never);
    expect(next).toEqual({
      status: 'succeeded',
      result: ['echo'],
      logs: { stdout: [], stderr: [], truncated: false },
    });
  });

  it('reports an exception with its type, message and traceback tail, and keeps the process', async () => {
    const before = await pool.run(task(alg, ['pid']), never);
    const out = failed(await pool.run(task(alg, ['raise', 42]), never));
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/^ValueError: bad value 42/);
    expect(out.error).toContain('Traceback (most recent call last)');
    expect(out.error).toMatch(/main\.py", line \d+, in start/);
    const after = await pool.run(task(alg, ['pid']), never);
    expect((after as { result: { pid: number } }).result.pid).toBe(
      (before as { result: { pid: number } }).result.pid,
    );
  });

  it('fails a crash mid-task with crashed: true and the stderr tail, then runs on a fresh process', async () => {
    const before = (await pool.run(task(alg, ['pid']), never)) as { result: { pid: number } };
    const out = failed(await pool.run(task(alg, ['crash']), never));
    expect(out.crashed).toBe(true);
    expect(out.error).toContain('exited with code 3');
    expect(out.error).toContain('about to die');
    expect(isAlive(before.result.pid)).toBe(false);
    const after = (await pool.run(task(alg, ['pid']), never)) as { result: { pid: number; init: number } };
    expect(after.result.pid).not.toBe(before.result.pid);
    expect(after.result.init).toBe(1);
  });

  it('fails a result that is not JSON-serializable with a clear message', async () => {
    const set = failed(await pool.run(task(alg, ['set']), never));
    expect(set.error).toContain('not JSON-serializable');
    expect(set.error).toContain('set');
    const nan = failed(await pool.run(task(alg, ['nan']), never));
    expect(nan.error).toContain('not JSON-serializable');
  });

  it('kills a task that exceeds its ttl (timedOut) and replaces the process', async () => {
    const before = (await pool.run(task(alg, ['pid']), never)) as { result: { pid: number } };
    const started = Date.now();
    const out = failed(await pool.run(task(alg, ['sleep', 30], { timeoutMs: 300 }), never));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.timedOut).toBe(true);
    expect(out.error).toMatch(/timed out.*300 ms/);
    expect(out.logs.stdout).toContain('sleeping');
    expect(await waitGone(before.result.pid)).toBe(true);
    const after = (await pool.run(task(alg, ['pid']), never)) as { result: { pid: number } };
    expect(after.result.pid).not.toBe(before.result.pid);
  });

  it('stops a running task promptly when its signal aborts', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const running = pool.run(task(alg, ['sleep', 30]), stop.signal);
    setTimeout(() => stop.abort(), 300);
    const out = failed(await running);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.stopped).toBe(true);
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/stopped/);
  });

  it('keeps only the last 1000 log lines of a chatty task', async () => {
    const out = await pool.run(task(alg, ['chatty', 5000]), never);
    expect(out.status).toBe('succeeded');
    expect(out.logs.truncated).toBe(true);
    expect(out.logs.stdout).toHaveLength(1001);
    expect(out.logs.stdout[0]).toBe('[sluice: 4000 earlier log lines dropped]');
    expect(out.logs.stdout.at(-1)).toBe('line 4999');
  });

  it('moves large inputs and results intact', async () => {
    const input = ['big', 5000, 'y'.repeat(3_000_000)];
    const out = await pool.run(task(alg, input), never);
    expect(out.status === 'succeeded' && (out.result as string[]).length).toBe(5000);
    expect(out.status === 'succeeded' && (out.result as string[])[4999]).toBe('x'.repeat(1000));
  });

  it('replaces a process that writes garbage on the response channel', async () => {
    const out = failed(await pool.run(task(alg, ['garbage']), never));
    expect(out.crashed).toBe(true);
    expect(out.error).toMatch(/wrote garbage on its response channel: this is not a response/);
    expect(await pool.run(task(alg, ['ok']), never)).toMatchObject({ status: 'succeeded', result: ['ok'] });
  });

  it('supports async def start', async () => {
    const asyncAlg = algorithm('py-async', 'python', {
      codePath: await dir.code('py-async', { 'algo.py': ASYNC_MAIN }),
      entryPoint: 'algo',
    });
    expect(await pool.run(task(asyncAlg, [1, 2, 3]), never)).toEqual({
      status: 'succeeded',
      result: 6,
      logs: { stdout: [], stderr: [], truncated: false },
    });
  });

  it('reports a module that fails to import as a failed (not crashed) task', async () => {
    const broken = algorithm('py-broken', 'python', {
      codePath: await dir.code('py-broken', { 'main.py': 'import no_such_module\n' }),
    });
    const out = failed(await pool.run(task(broken, []), never));
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/^ModuleNotFoundError: No module named 'no_such_module'/);
  });
});

async function waitGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  return !isAlive(pid);
}
