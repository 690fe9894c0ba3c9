// Answers too large for a Lambda response, on the emulated AWS stack (api function on node:http,
// S3 emulator) with the inline limit made small (SLUICE_API_INLINE_MAX_BYTES=4096): a large result
// or task list is answered 303 with a presigned URL of a copy in the blob bucket (api-answers/),
// which `sluice exec result` / `exec tasks --endpoint`, the Python client and `sluice dashboard`'s
// proxy follow transparently, dropping their own credentials; small answers and pages stay inline.
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Client } from '../../../shared/adapters/aws/s3-client.ts';
import { handleApi } from '../../../shared/api/router.ts';
import { allBuiltins } from '../../../shared/builtins/registry.ts';
import { InlineRunner } from '../../../shared/runner/inline-runner.ts';
import { createApiProxy } from '../../../shared/runtime/api-proxy.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { runCli } from '../../helpers/cli.ts';

const builtins = allBuiltins();
const ITEMS = 200;
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let jobId: string;
let inline: unknown;

beforeAll(async () => {
  bed = await startAwsTestBed('large');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env, SLUICE_API_INLINE_MAX_BYTES: '4096' },
    builtins,
    runner: new InlineRunner(builtins, 2),
    slots: 2,
    s3PollMs: 0,
    http: { port: 0, host: '127.0.0.1' },
    onError: () => {},
  });
  const job = await stack.engine.coordinator.submit({
    name: 'large-answers',
    nodes: [{ nodeName: 'items', algorithmName: 'echo', input: [`#[1...${ITEMS}]`, 'x'.repeat(40)] }],
  });
  jobId = job.jobId;
  const end = Date.now() + 60_000;
  for (;;) {
    const s = await stack.engine.jobs.getJob(jobId);
    if (s && ['completed', 'failed', 'stopped'].includes(s.status)) break;
    if (Date.now() > end) throw new Error('the job did not finish');
    await new Promise((r) => setTimeout(r, 100));
  }
  // What the API answers, read in-process (no Lambda in the way): the offloaded copy must equal it.
  inline = (
    await handleApi(stack.engine.service, {
      method: 'GET',
      path: `/exec/results/${jobId}`,
      query: {},
      headers: {},
    })
  ).body;
}, 120_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

describe('answers over the Lambda response limit', () => {
  it('a large result is a 303 to a presigned copy in the blob bucket; a small answer stays inline', async () => {
    const res = await fetch(`${stack.url}/api/v1/exec/results/${jobId}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location') as string;
    expect(new URL(location).origin).toBe(new URL(process.env.AWS_ENDPOINT_URL_S3 as string).origin);
    expect(location).toContain('X-Amz-Signature=');
    expect(location).toContain('/api-answers/');
    expect(((await res.json()) as { location: string }).location).toBe(location);
    const copy = await fetch(location);
    expect(copy.status).toBe(200);
    const data = (await copy.json()) as { status: string; data: unknown[] };
    expect(data).toEqual(inline);
    expect(data.status).toBe('completed');
    expect(data.data).toHaveLength(ITEMS);
    const listed = await createS3Client({ ...process.env, ...bed.env }).send(
      new ListObjectsV2Command({ Bucket: bed.env.SLUICE_BLOB_BUCKET, Prefix: 'api-answers/' }),
    );
    expect(listed.Contents?.length).toBeGreaterThanOrEqual(1);

    const status = await fetch(`${stack.url}/api/v1/exec/status/${jobId}`, { redirect: 'manual' });
    expect(status.status).toBe(200);
    // A page of the task list fits; the whole list does not.
    const page = await fetch(`${stack.url}/api/v1/exec/tasks/${jobId}?nodeName=items&limit=5`, {
      redirect: 'manual',
    });
    expect(page.status).toBe(200);
    expect(((await page.json()) as unknown[]).length).toBe(5);
    const all = await fetch(`${stack.url}/api/v1/exec/tasks/${jobId}?nodeName=items`, { redirect: 'manual' });
    expect(all.status).toBe(303);
  });

  it('the CLI follows it: exec result and exec tasks print the whole answer', async () => {
    const env = { SLUICE_API_TOKEN: 'not-for-s3', SLUICE_HOME: path.join(bed.prefix, 'none') };
    const r = await runCli(['exec', 'result', jobId, '--endpoint', stack.url as string], { env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual((inline as { data: unknown }).data);
    const t = await runCli(['exec', 'tasks', jobId, '--endpoint', stack.url as string, '--json'], { env });
    expect(t.code).toBe(0);
    expect((JSON.parse(t.stdout) as unknown[]).length).toBe(ITEMS);
  });

  it('the Python client follows it, without sending its token to S3', async () => {
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(path.resolve('clients/python'))})`,
      'from sluice_client import Client',
      `c = Client(${JSON.stringify(stack.url)}, token="not-for-s3")`,
      `print(json.dumps(c.results(${JSON.stringify(jobId)})))`,
    ].join('\n');
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn('python3', ['-c', script], {
          env: { ...process.env, SLUICE_HOME: '/nonexistent' },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      },
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual((inline as { data: unknown }).data);
  });

  it("the dashboard's proxy fetches it and answers the browser with the whole answer", async () => {
    const token = 't'.repeat(43);
    const proxy = createApiProxy({
      target: `${stack.url}/`,
      guard: { boundHost: '127.0.0.1', token },
      authHeaders: async () => ({ authorization: 'Bearer not-for-s3' }),
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const at = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const res = await fetch(`${at}/api/v1/exec/results/${jobId}`, {
        headers: { authorization: `Bearer ${token}` },
        redirect: 'manual',
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual(inline);
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});
