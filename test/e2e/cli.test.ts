// The `sluice` CLI as a user runs it: a real process per command, state in a temporary SLUICE_HOME,
// alone (the engine runs inside the command) and against a running `sluice serve`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Served, serve, sluice, sluiceEnv, waitFor } from '../helpers/process.ts';
import { readLog, slowPipeline, writeAlgorithms } from './fixtures.ts';

// Real processes (tsx start-up ~0.4 s each) on a shared machine: generous time limits.
vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-e2e-'));
  writeAlgorithms(dir);
  writeFileSync(join(dir, 'flow.yml'), 'data: 3\nmul: 3\n');
  writeFileSync(join(dir, 'list-flow.yml'), '- 1\n- 2\n');
  writeFileSync(join(dir, 'broken.yml'), 'name: broken\nnodes: [\n');
  writeFileSync(
    join(dir, 'typo.yml'),
    'name: typo\nprority: 2\nnodes:\n  - nodeName: A\n    algorithmName: echo\n    input: [1]\n',
  );
  writeFileSync(
    join(dir, 'failing.yml'),
    'name: failing\nnodes:\n  - nodeName: F\n    algorithmName: fail\n    input: [1]\n',
  );
  writeFileSync(join(dir, 'slow4.yml'), slowPipeline('slow4', 4, 0.3));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const home = (name: string) => join(dir, name);
const log = () => join(dir, 'slow.log');

/** The one-line error contract: exit 1, a `sluice:` line, no stack trace. */
function expectCleanError(r: { code: number | null; stderr: string }, message: RegExp) {
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
}

describe('sluice run (engine in the command)', () => {
  it('runs the numbers example: Reduce = 30, exit 0, plain progress lines', async () => {
    const env = sluiceEnv(home('run'));
    const r = await sluice(['run', 'examples/numbers/pipeline.yml'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([{ nodeName: 'Reduce', algorithmName: 'reduce', result: 30 }]);
    expect(r.stderr).toMatch(/registered algorithm multiply/);
    expect(r.stderr).not.toMatch(/\r|\x1b\[/); // not a TTY: no redrawn line
    expect(r.stderr.trim().split('\n').at(-1)).toMatch(/ completed 100% \| tasks 7\/7/);
    expect(existsSync(join(home('run'), 'engine.lock'))).toBe(false);
  });

  it('--json with -f replaces the flowInput', async () => {
    const env = sluiceEnv(home('run'));
    const r = await sluice(['run', '--json', 'examples/numbers/pipeline.yml', '-f', join(dir, 'flow.yml')], {
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'completed', results: [{ nodeName: 'Reduce', result: 18 }] });
    expect(out.jobId).toMatch(/^numbers-/);
  });

  it('a failing pipeline exits 1 with the reason on stderr', async () => {
    const env = sluiceEnv(home('fail'));
    const r = await sluice(['run', join(dir, 'failing.yml'), '-a', join(dir, 'algorithms')], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/job failing-\S+ failed: .*F.*/);
    expect(r.stderr).toMatch(/exit(ed)? (code |with )?3|disk full/);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ nodeName: 'F', error: expect.any(String) });
  });

  it('bad input: one clear line and exit 1, nothing stored', async () => {
    const env = sluiceEnv(home('bad'));
    expectCleanError(
      await sluice(['run', join(dir, 'broken.yml')], { env }),
      /broken\.yml: invalid YAML at line 3/,
    );
    expectCleanError(await sluice(['run', join(dir, 'typo.yml')], { env }), /prority/);
    expectCleanError(await sluice(['run', join(dir, 'missing.yml')], { env }), /cannot read .*missing\.yml/);
    expectCleanError(
      await sluice(['run', 'examples/numbers/pipeline.yml', '-f', join(dir, 'list-flow.yml')], { env }),
      /list-flow\.yml: a flowInput file must hold an object/,
    );
    expectCleanError(
      await sluice(['pipeline', 'store', '-f', join(dir, 'typo.yml')], { env }),
      /prority is not a known field/,
    );
    // Algorithm files: all are checked before any is registered.
    writeFileSync(join(dir, 'bad-env.yml'), 'name: bad\nenv: cobol\n');
    writeFileSync(
      join(dir, 'no-code.yml'),
      'name: nocode\nenv: python\ncodePath: ./nowhere\nentryPoint: main.py\n',
    );
    expectCleanError(
      await sluice(
        ['algorithm', 'apply', '-f', join(dir, 'algorithms', 'slow.yml'), join(dir, 'bad-env.yml')],
        {
          env,
        },
      ),
      /bad-env\.yml: env must be one of: python, nodejs, command/,
    );
    expectCleanError(
      await sluice(['algorithm', 'apply', '-f', join(dir, 'no-code.yml')], { env }),
      /no-code\.yml: codePath .*nowhere does not exist/,
    );
    const jobs = await sluice(['exec', 'jobs', '--json'], { env });
    expect(JSON.parse(jobs.stdout)).toEqual([]);
    const pipelines = await sluice(['pipeline', 'list', '--json'], { env });
    expect(JSON.parse(pipelines.stdout)).toEqual([]);
    // typo.yml sits beside algorithms/: a rejected pipeline registers none of them.
    const algorithms = await sluice(['algorithm', 'list', '--json'], { env });
    expect(JSON.parse(algorithms.stdout)).toEqual([]);
  });
});

describe('two sluice run on one SLUICE_HOME', () => {
  it('the second uses the engine of the first, which waits for the second job before it exits', async () => {
    const h = home('two-runs');
    const gate = join(dir, 'gate');
    const twoLog = join(dir, 'two-runs.log');
    const env = sluiceEnv(h, { SLUICE_TEST_LOG: twoLog });
    // The first job ends only when the test opens the gate: after the second job has started.
    mkdirSync(join(dir, 'gated', 'algorithms'), { recursive: true });
    writeFileSync(
      join(dir, 'gated', 'algorithms', 'gate.yml'),
      `name: gate\nenv: command\ncodePath: ${dir}\ncommand: [python3, -c, "import os, time\\nwhile not os.path.exists('${gate}'): time.sleep(0.05)\\nprint(1)"]\n`,
    );
    writeFileSync(
      join(dir, 'gated', 'first.yml'),
      'name: first\nnodes:\n  - nodeName: G\n    algorithmName: gate\n    input: []\n',
    );
    writeFileSync(join(dir, 'longer.yml'), slowPipeline('longer', 1, 2));
    const first = sluice(['run', join(dir, 'gated', 'first.yml'), '-q'], { env, timeoutMs: 60_000 });
    await waitFor('the first engine', () => existsSync(join(h, 'engine.json')) || undefined, 30_000);
    const second = sluice(['run', join(dir, 'longer.yml'), '-q'], { env, timeoutMs: 60_000 });
    await waitFor('the second job to start', () => readLog(twoLog).length > 0 || undefined, 30_000);
    writeFileSync(gate, '');
    const [one, two] = await Promise.all([first, second]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stderr).toMatch(/1 other job\(s\) run in this engine; waiting for them/);
    expect(two.code, two.stderr).toBe(0);
    expect(JSON.parse(two.stdout)[0].result).toBe(10);
  });
});

describe('algorithm code as a .tar.gz', () => {
  it('a relative .tar.gz codePath next to the definition runs', async () => {
    const tgz = join(dir, 'tgz');
    mkdirSync(join(tgz, 'algorithms'), { recursive: true });
    execFileSync('tar', ['-czf', join(tgz, 'code.tar.gz'), '-C', join(dir, 'code'), '.']);
    writeFileSync(
      join(tgz, 'algorithms', 'packed.yml'),
      'name: packed\nenv: command\ncommand: [python3, slow.py]\ncodePath: ../code.tar.gz\n',
    );
    writeFileSync(
      join(tgz, 'p.yml'),
      'name: packed\nnodes:\n  - nodeName: P\n    algorithmName: packed\n    input: ["#[1...2]", 0]\n',
    );
    const env = sluiceEnv(home('tgz'), { SLUICE_TEST_LOG: log() });
    const r = await sluice(['run', join(tgz, 'p.yml'), '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results.map((x: { result: number }) => x.result)).toEqual([10, 20]);
  });
});

describe('definitions and stored pipelines (no engine running)', () => {
  it('algorithm apply resolves codePath against the file; pipeline store/list/get; exec stored -f; exec status/result/jobs; delete', async () => {
    const env = sluiceEnv(home('store'));
    // From another working directory: the relative codePath still points next to the file.
    const applied = await sluice(['algorithm', 'apply', '-f', 'algorithms/slow.yml', '--json'], {
      env,
      cwd: dir,
    });
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout).codePath).toBe(join(dir, 'code'));
    const got = await sluice(['algorithm', 'get', 'slow'], { env });
    expect(JSON.parse(got.stdout)).toMatchObject({
      name: 'slow',
      env: 'command',
      codePath: join(dir, 'code'),
    });

    const pipeline = join(dir, 'stored.yml');
    writeFileSync(
      pipeline,
      'name: stored\nnodes:\n  - nodeName: S\n    algorithmName: slow\n    input: ["#@flowInput.items", 0]\nflowInput: { items: [1] }\n',
    );
    expect((await sluice(['pipeline', 'store', '-f', pipeline], { env })).stdout).toBe(
      'stored pipeline stored\n',
    );
    const dup = await sluice(['pipeline', 'store', '-f', pipeline], { env });
    expectCleanError(dup, /already exists/);
    const list = await sluice(['pipeline', 'list'], { env });
    expect(list.stdout).toMatch(/^NAME\s+NODES\s+PRIORITY/);
    expect(list.stdout).toMatch(/\nstored\s+1\s+3/);
    expect(JSON.parse((await sluice(['pipeline', 'get', 'stored'], { env })).stdout)).toMatchObject({
      name: 'stored',
      flowInput: { items: [1] },
    });

    const flow = join(dir, 'items.yml');
    writeFileSync(flow, 'items: [4, 5]\n');
    const ran = await sluice(['exec', 'stored', 'stored', '-f', flow, '--json'], {
      env: { ...env, SLUICE_TEST_LOG: log() },
    });
    expect(ran.code, ran.stderr).toBe(0);
    const out = JSON.parse(ran.stdout);
    expect(out.results.map((x: { result: number }) => x.result)).toEqual([40, 50]);

    const status = await sluice(['exec', 'status', out.jobId], { env });
    expect(status.stdout).toMatch(/^status: completed$/m);
    expect(status.stdout).toMatch(/\nS\s+succeeded\s+true\s+2\s+2\s+0/);
    const result = await sluice(['exec', 'result', out.jobId], { env });
    expect(JSON.parse(result.stdout).map((x: { batchIndex: number }) => x.batchIndex)).toEqual([1, 2]);
    const jobs = await sluice(['exec', 'jobs', '--pipeline', 'stored'], { env });
    expect(jobs.stdout).toContain(out.jobId);
    expect(jobs.stdout).toMatch(/completed/);

    expect((await sluice(['pipeline', 'delete', 'stored'], { env })).stdout).toBe(
      'deleted pipeline stored\n',
    );
    expectCleanError(await sluice(['pipeline', 'get', 'stored'], { env }), /pipeline "stored" is not stored/);
    expectCleanError(await sluice(['exec', 'status', 'nope'], { env }), /job nope not found/);
  });
});

describe('against a running sluice serve', () => {
  let served: Served | undefined;
  const serveHome = () => home('served');
  beforeAll(async () => {
    served = await serve(['-w', '2'], { env: sluiceEnv(serveHome(), { SLUICE_TEST_LOG: log() }) });
  });
  afterAll(async () => {
    if (served && served.child.exitCode === null) {
      served.child.kill('SIGTERM');
      await served.exited;
    }
  });

  it('a second process on the same SLUICE_HOME talks to it (engine.json), and watch follows a job', async () => {
    const env = sluiceEnv(serveHome());
    const applied = await sluice(['algorithm', 'apply', '-f', join(dir, 'algorithms', 'slow.yml')], { env });
    expect(applied.code, applied.stderr).toBe(0);
    // --no-wait needs an engine that outlives this command: it works only through the served one.
    const sub = await sluice(['exec', 'raw', join(dir, 'slow4.yml'), '--no-wait'], { env });
    expect(sub.code, sub.stderr).toBe(0);
    const jobId = sub.stdout.trim();
    expect(jobId).toMatch(/^slow4-/);
    const watched = await sluice(['watch', jobId, '--interval', '100'], { env });
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toBe(`${jobId} completed\n`);
    const lines = watched.stderr.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) {
      expect(l).toMatch(
        /remaining \d+, running \d+, succeeded \d+, failed \d+, retried \d+\) \| \d+ tasks\/s/,
      );
    }
    expect(lines.at(-1)).toMatch(/completed 100% \| tasks 4\/4/);
    const result = await sluice(['exec', 'result', jobId, '--json'], { env });
    expect(JSON.parse(result.stdout).data.map((x: { result: number }) => x.result)).toEqual([10, 20, 30, 40]);
  });

  it('exec stop stops a running job; stopping it again fails clearly', async () => {
    const env = sluiceEnv(serveHome());
    writeFileSync(join(dir, 'long.yml'), slowPipeline('long', 2, 30));
    const sub = await sluice(['exec', 'raw', join(dir, 'long.yml'), '--no-wait'], { env });
    const jobId = sub.stdout.trim();
    const stop = await sluice(['exec', 'stop', jobId, '--reason', 'not needed'], { env });
    expect(stop.code, stop.stderr).toBe(0);
    expect(JSON.parse(stop.stdout)).toMatchObject({ jobId, reason: 'not needed' });
    const watched = await sluice(['watch', jobId], { env });
    expect(watched.code).toBe(1);
    expect(watched.stdout).toBe(`${jobId} stopped: not needed\n`);
    expectCleanError(await sluice(['exec', 'stop', jobId], { env }), /is already stopped/);
  });

  it('--endpoint URL from anywhere (another SLUICE_HOME, the token in SLUICE_API_TOKEN)', async () => {
    const env = sluiceEnv(home('elsewhere'), { SLUICE_API_TOKEN: served?.token });
    const url = served?.url as string;
    const r = await sluice(['run', '--endpoint', url, 'examples/numbers/pipeline.yml', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).results[0].result).toBe(30);
    const jobs = await sluice(['exec', 'jobs', '--endpoint', url, '--json'], { env });
    expect(JSON.parse(jobs.stdout).map((j: { pipelineName: string }) => j.pipelineName)).toContain('numbers');
    expect(existsSync(join(home('elsewhere'), 'sluice.db'))).toBe(false);
    expectCleanError(
      await sluice(['exec', 'status', 'nope', '--endpoint', url], { env }),
      /job nope not found/,
    );
    expectCleanError(
      await sluice(['exec', 'jobs', '--endpoint', 'http://127.0.0.1:9'], { env }),
      /cannot reach the Sluice API at http:\/\/127\.0\.0\.1:9/,
    );
  });

  it('SIGTERM stops serve cleanly: exit 0, engine.json and engine.lock removed', async () => {
    const s = served as Served;
    s.child.kill('SIGTERM');
    expect(await s.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(serveHome(), 'engine.json'))).toBe(false);
    expect(existsSync(join(serveHome(), 'engine.lock'))).toBe(false);
  });
});
