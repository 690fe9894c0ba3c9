// `sluice serve --backend aws` end to end on the emulators: the api function behind HTTP, the
// glue, and a worker running the example's user algorithms in the local WorkerPool; the CLI
// talks to it with --endpoint exactly as to a deployed API.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { runCli } from '../../helpers/cli.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('serve');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    http: { port: 0, host: '127.0.0.1' },
    slots: 2,
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

it('serve rejects an unknown backend and --create without --backend aws', async () => {
  const bad = await runCli(['serve', '--backend', 'cloud']);
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toMatch(/--backend must be embedded or aws/);
  const create = await runCli(['serve', '--create', 'x']);
  expect(create.code).not.toBe(0);
  expect(create.stderr).toMatch(/--create needs --backend aws/);
});
