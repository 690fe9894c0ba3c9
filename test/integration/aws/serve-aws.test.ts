// `sluice serve --backend aws` end to end on the emulators: the api function behind HTTP, the
// glue, and a worker running the example's user algorithms in the local WorkerPool; the CLI
// talks to it with --endpoint exactly as to a deployed API.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { runCli } from '../../helpers/cli.ts';
import { serve, sluice, sluiceEnv } from '../../helpers/process.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('serve');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    http: { port: 0, host: '127.0.0.1' },
    slots: 2,
    // As `sluice serve --backend aws` runs it: the worker container's entry point in a process.
    workerProcess: true,
    s3PollMs: 0,
    onError: () => {},
  });
});

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

it('the CLI runs the example pipeline (user algorithms) through the AWS path', async () => {
  const r = await runCli(['run', 'examples/numbers/pipeline.yml', '--endpoint', stack.url as string]);
  expect(r.stderr).toMatch(/completed/);
  expect(r.code).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual([{ nodeName: 'Reduce', algorithmName: 'reduce', result: 30 }]);
}, 60_000);

it('with a guard (serve --backend aws), its HTTP front asks for the token as the embedded serve does', async () => {
  const guarded = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    http: { port: 0, host: '127.0.0.1', guard: { boundHost: '127.0.0.1', token: 't'.repeat(43) } },
    noWorker: true,
    s3PollMs: 0,
    onError: () => {},
  });
  try {
    const jobs = `${guarded.url}/api/v1/exec/jobs`;
    expect((await fetch(jobs)).status).toBe(401);
    expect((await fetch(jobs, { headers: { authorization: `Bearer ${'t'.repeat(43)}` } })).status).toBe(200);
    const plain = await fetch(`${guarded.url}/api/v1/exec/raw`, {
      method: 'POST',
      headers: { authorization: `Bearer ${'t'.repeat(43)}`, 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
  } finally {
    await guarded.close();
  }
});

it('keeps each task’s stdout and stderr apart on the AWS path: exec tasks and exec logs show them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-aws-logs-'));
  try {
    mkdirSync(join(dir, 'algorithms'));
    mkdirSync(join(dir, 'talk'));
    writeFileSync(
      join(dir, 'talk', 'main.py'),
      'import sys\ndef start(args):\n    n = args["input"][0]\n    print(f"out {n}")\n' +
        '    print(f"err {n}", file=sys.stderr)\n    if n == 2:\n        raise ValueError("two")\n    return n\n',
    );
    writeFileSync(
      join(dir, 'algorithms', 'talk.yml'),
      'name: talk\nenv: python\ncodePath: ../talk\nentryPoint: main.py\n',
    );
    writeFileSync(
      join(dir, 'p.yml'),
      'name: talk\noptions:\n  batchTolerance: 90\nnodes:\n  - nodeName: T\n    algorithmName: talk\n    input: ["#[1...3]"]\n',
    );
    const ep = ['--endpoint', stack.url as string];
    const r = await runCli(['run', join(dir, 'p.yml'), ...ep]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('1 failed item (T: 1):');
    const jobId = /job (\S+) submitted/.exec(r.stderr)?.[1] ?? '';
    const logs = JSON.parse((await runCli(['exec', 'logs', jobId, 'T', '--json', ...ep])).stdout);
    expect(
      logs.tasks.map((t: Record<string, unknown>) => [t.batchIndex, t.status, t.stdout, t.stderr]),
    ).toEqual([
      [1, 'succeeded', 'out 1\n', 'err 1\n'],
      [2, 'failed', 'out 2\n', 'err 2\n'],
      [3, 'succeeded', 'out 3\n', 'err 3\n'],
    ]);
    const failed = await runCli(['exec', 'tasks', jobId, '--status', 'failed', ...ep]);
    expect(failed.stdout).toMatch(/\nT\s+2\s+failed\s+1\s+\[2\]\s+ValueError: two/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

it('serve rejects an unknown backend and --create without --backend aws', async () => {
  const bad = await runCli(['serve', '--backend', 'cloud']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--backend must be embedded or aws/);
  const create = await runCli(['serve', '--create', 'x']);
  expect(create.code).not.toBe(0);
  expect(create.stderr).toMatch(/--create needs --backend aws/);
});

it('`sluice serve --backend aws --emulators` brings up the AWS path offline in one command', async () => {
  const home = mkdtempSync(join(tmpdir(), 'sluice-serve-emulators-'));
  const pipeline = join(home, 'p.yml');
  writeFileSync(
    pipeline,
    'name: hello\nnodes:\n  - nodeName: a\n    algorithmName: echo\n    input: ["@flowInput.x"]\nflowInput: { x: 7 }\n',
  );
  const served = await serve(['--backend', 'aws', '--emulators', '--workers', '1'], {
    env: sluiceEnv(home),
    startTimeoutMs: 120_000,
  });
  try {
    expect(served.stderr()).toMatch(/AWS emulators on 127\.0\.0\.1 \(DynamoDB \d+, SQS \d+, S3 \d+\)/);
    const r = await sluice(['run', pipeline, '--endpoint', served.url, '-q'], {
      env: sluiceEnv(home),
      // Under a loaded full run the worker process (started by serve) takes a while to come up.
      timeoutMs: 180_000,
    });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual([{ nodeName: 'a', algorithmName: 'echo', result: [7] }]);
  } finally {
    process.kill(served.child.pid as number, 'SIGTERM');
    expect((await served.exited).code).toBe(0);
    rmSync(home, { recursive: true, force: true });
  }
}, 360_000);
