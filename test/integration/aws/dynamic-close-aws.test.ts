// Closing a dynamic job (`sluice make --endpoint` at its end) on the AWS adapters against the
// emulators, when the status function counted the last outcome and found the job still open, so
// left finishing it to the close, while the close read the job before that count: the close
// re-reads the counts once it is saved, and the job completes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { closeMissingLastCount } from '../../helpers/dynamic-close.ts';

let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-dynclose-'));
  bed = await startAwsTestBed('dynclose');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env, SLUICE_CACHE_DIR: join(dir, 'cache') },
    slots: 1,
    s3PollMs: 0,
    agingMs: 0,
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('completes a dynamic job closed by a close that read it before its last outcome was counted', async () => {
  const c = stack.engine.coordinator;
  const job = await c.submit(
    { name: 'dynclose', nodes: [{ nodeName: 'N', algorithmName: 'echo', input: [] }] },
    { dynamic: true },
  );
  await c.addDynamicTasks(job.jobId, 'N', [{ key: 'a', input: [1] }]);
  // The status function has counted the outcome; the job, open, stays active.
  for (let i = 0; (await stack.engine.tasks.nodeCounts(job.jobId)).N?.succeeded !== 1; i++) {
    expect(i, 'the task was not counted within 30 s').toBeLessThan(600);
    await new Promise((r) => setTimeout(r, 50));
  }
  expect((await stack.engine.jobs.getJob(job.jobId))?.status).toBe('active');
  expect((await closeMissingLastCount(c, job.jobId, 'N')).status).toBe('completed');
}, 60_000);
