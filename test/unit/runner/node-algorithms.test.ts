import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlgorithmDefinition } from '../../../shared/pipeline/types.ts';
import type { TaskOutcome } from '../../../shared/ports/task-runner.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, failed, isAlive, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

const ESM = `
let inits = 0;
export function init() { inits++; }
export async function start(args) {
  const [mode, arg] = args.input;
  switch (mode) {
    case 'pid': return { pid: process.pid, inits, info: args.info };
    case 'log': console.log('to stdout'); console.error('to stderr'); return 'result';
    case 'throw': throw new RangeError('out of range ' + arg);
    case 'exit': console.error('about to exit'); process.exit(2);
    case 'hang': console.log('hanging'); return new Promise(() => setInterval(() => {}, 1000));
    case 'bigint': return { n: 10n };
    case 'fn': return { f() {} };
    case 'undefined': return undefined;
    default: return args.input;
  }
}
`;

const CJS = `
module.exports = { start: (args) => ({ sum: args.input.reduce((a, b) => a + b, 0), pid: process.pid }) };
`;

let dir: TempDir;
let pool: WorkerPool;
let alg: AlgorithmDefinition;

beforeAll(async () => {
  dir = await tempDir();
  pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, killGraceMs: 500 });
  alg = algorithm('js', 'nodejs', {
    codePath: await dir.code('js', { 'index.mjs': ESM }),
    entryPoint: 'index.mjs',
  });
});

afterAll(async () => {
  await pool.close();
  await dir.remove();
});

function result<T>(outcome: TaskOutcome): T {
  if (outcome.status !== 'succeeded') throw new Error(`expected success, got ${outcome.error}`);
  return outcome.result as T;
}

describe('nodejs algorithms', () => {
  it('serve many tasks from one hot process (ESM, async start, init once)', async () => {
    const a = result<{ pid: number; inits: number; info: { taskId: string } }>(
      await pool.run(task(alg, ['pid']), never),
    );
    const b = result<{ pid: number; inits: number }>(await pool.run(task(alg, ['pid']), never));
    expect(b.pid).toBe(a.pid);
    expect(b.inits).toBe(1);
    expect(a.info.taskId).toMatch(/^task-/);
  });

  it('loads CommonJS through dynamic import, with an extension-less entryPoint', async () => {
    const cjs = algorithm('cjs', 'nodejs', {
      codePath: await dir.code('cjs', { 'main.cjs': CJS, 'package.json': '{"main":"main.cjs"}' }),
      entryPoint: 'main.cjs',
    });
    expect(result<{ sum: number }>(await pool.run(task(cjs, [1, 2, 3]), never)).sum).toBe(6);
    const byDir = algorithm('cjs-dir', 'nodejs', { codePath: dir.path, entryPoint: 'cjs' });
    expect(result<{ sum: number }>(await pool.run(task(byDir, [4, 5]), never)).sum).toBe(9);
  });

  it('captures console output as logs, not in the result', async () => {
    expect(await pool.run(task(alg, ['log']), never)).toEqual({
      status: 'succeeded',
      result: 'result',
      logs: { stdout: ['to stdout'], stderr: ['to stderr'], truncated: false },
    });
  });

  it('reports a thrown error with its type, message and stack', async () => {
    const out = failed(await pool.run(task(alg, ['throw', 7]), never));
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/^RangeError: out of range 7/);
    expect(out.error).toMatch(/at (Object\.)?start \(.*index\.mjs:\d+/);
  });

  it('fails a process.exit() mid-task as crashed and serves the next task from a fresh process', async () => {
    const before = result<{ pid: number }>(await pool.run(task(alg, ['pid']), never));
    const out = failed(await pool.run(task(alg, ['exit']), never));
    expect(out.crashed).toBe(true);
    expect(out.error).toContain('exited with code 2');
    expect(out.error).toContain('about to exit');
    expect(isAlive(before.pid)).toBe(false);
    const after = result<{ pid: number }>(await pool.run(task(alg, ['pid']), never));
    expect(after.pid).not.toBe(before.pid);
  });

  it('fails results JSON cannot represent, and maps undefined to null', async () => {
    expect(failed(await pool.run(task(alg, ['bigint']), never)).error).toMatch(
      /not JSON-serializable.*BigInt/,
    );
    expect(failed(await pool.run(task(alg, ['fn']), never)).error).toMatch(/not JSON-serializable.*function/);
    expect(await pool.run(task(alg, ['undefined']), never)).toEqual({
      status: 'succeeded',
      result: null,
      logs: { stdout: [], stderr: [], truncated: false },
    });
  });

  it('kills a task past its ttl and a stopped task, each promptly', async () => {
    const timed = failed(await pool.run(task(alg, ['hang'], { timeoutMs: 200 }), never));
    expect(timed).toMatchObject({ timedOut: true, crashed: false, logs: { stdout: ['hanging'] } });
    const stop = new AbortController();
    const started = Date.now();
    const running = pool.run(task(alg, ['hang']), stop.signal);
    setTimeout(() => stop.abort(), 200);
    const stopped = failed(await running);
    expect(stopped.stopped).toBe(true);
    expect(stopped.error).toMatch(/stopped/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('reports a missing start() export as a failed task', async () => {
    const bad = algorithm('nostart', 'nodejs', {
      codePath: await dir.code('nostart', {
        'index.js': 'export const x = 1;\n',
        'package.json': '{"type":"module"}',
      }),
    });
    const out = failed(await pool.run(task(bad, []), never));
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/TypeError: index\.js exports no start\(args\) function/);
  });
});
