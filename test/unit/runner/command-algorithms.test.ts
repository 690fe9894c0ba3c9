import { chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, failed, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

// A command algorithm as users write them: reads {"input", "info"} from stdin, prints JSON.
const SCRIPT = `
import json, sys, time
args = json.load(sys.stdin)
mode = args["input"][0]
print("working on", args["info"]["nodeName"], file=sys.stderr)
if mode == "double":
    print(json.dumps([x * 2 for x in args["input"][1:]]))
elif mode == "chatty":
    print("progress 50%")
    print(json.dumps({"done": True}))
elif mode == "garbage":
    print("this is not json at all")
    print("something went sideways", file=sys.stderr)
elif mode == "exit":
    print("cannot continue", file=sys.stderr)
    sys.exit(4)
elif mode == "sleep":
    time.sleep(30)
elif mode == "cwd":
    import os
    print(json.dumps(os.getcwd()))
`;

let dir: TempDir;
let pool: WorkerPool;
let codePath: string;
const cmd = () => algorithm('cmd', 'command', { command: ['python3', 'algo.py'], codePath });

beforeAll(async () => {
  dir = await tempDir();
  pool = new WorkerPool({ cacheDir: dir.path, maxWorkers: 2, killGraceMs: 300 });
  codePath = await dir.code('cmd', { 'algo.py': SCRIPT });
});

afterAll(async () => {
  await pool.close();
  await dir.remove();
});

describe('command algorithms', () => {
  it('get {input, info} on stdin, run in codePath, and return stdout JSON with stderr as logs', async () => {
    expect(await pool.run(task(cmd(), ['double', 1, 2, 3]), never)).toEqual({
      status: 'succeeded',
      result: [2, 4, 6],
      logs: { stdout: [], stderr: ['working on node'], truncated: false },
    });
    expect(await pool.run(task(cmd(), ['cwd']), never)).toMatchObject({ result: codePath });
  });

  it('take the last stdout line as the result when earlier lines are chatter', async () => {
    expect(await pool.run(task(cmd(), ['chatty']), never)).toEqual({
      status: 'succeeded',
      result: { done: true },
      logs: { stdout: ['progress 50%'], stderr: ['working on node'], truncated: false },
    });
  });

  it('fail on output that is not JSON, quoting it and the stderr tail', async () => {
    const out = failed(await pool.run(task(cmd(), ['garbage']), never));
    expect(out.crashed).toBe(false);
    expect(out.error).toMatch(/^cmd printed output that is not JSON .*: this is not json at all/);
    expect(out.error).toContain('stderr (last 2 lines):\nworking on node\nsomething went sideways');
  });

  it('fail on a non-zero exit with the code and the stderr tail', async () => {
    const out = failed(await pool.run(task(cmd(), ['exit']), never));
    expect(out).toMatchObject({ crashed: false, logs: { stderr: ['working on node', 'cannot continue'] } });
    expect(out.error).toMatch(/^cmd exited with code 4\nstderr \(last 2 lines\):/);
    expect(out.error).toContain('cannot continue');
  });

  it('are killed at their ttl and on stop', async () => {
    const started = Date.now();
    expect(failed(await pool.run(task(cmd(), ['sleep'], { timeoutMs: 300 }), never))).toMatchObject({
      timedOut: true,
    });
    const stop = new AbortController();
    const running = pool.run(task(cmd(), ['sleep']), stop.signal);
    setTimeout(() => stop.abort(), 200);
    expect(failed(await running)).toMatchObject({ stopped: true, crashed: false });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('resolve a relative program against codePath', async () => {
    const scripted = await dir.code('scripted', { 'run.sh': '#!/bin/sh\necho \'{"ran": true}\'\n' });
    await chmod(join(scripted, 'run.sh'), 0o755);
    const alg = algorithm('sh', 'command', { command: ['./run.sh'], codePath: scripted });
    expect(await pool.run(task(alg, []), never)).toEqual({
      status: 'succeeded',
      result: { ran: true },
      logs: { stdout: [], stderr: [], truncated: false },
    });
  });

  it('report a command that cannot be started', async () => {
    const missing = algorithm('missing', 'command', { command: ['/no/such/binary'], codePath });
    const out = failed(await pool.run(task(missing, []), never));
    expect(out.error).toMatch(/could not start missing \(\/no\/such\/binary\).*ENOENT/);
  });
});
