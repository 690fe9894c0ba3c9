// `sluice exec result` on a job that has not ended says it is still running (exit 1), instead of
// printing `null` as its results.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { startTestHost } from '../../helpers/engine.ts';

let t: Awaited<ReturnType<typeof startTestHost>>;
beforeAll(async () => {
  t = await startTestHost();
});
afterAll(async () => {
  await t?.close();
});

it('says a running job is still running', async () => {
  const job = await t.host.engine.coordinator.submit({
    name: 'long',
    nodes: [{ nodeName: 'S', algorithmName: 'sleep', input: [30_000, 'x'] }],
  });
  const r = await runCli(['exec', 'result', job.jobId], { env: { SLUICE_HOME: t.home } });
  expect(r.code).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(
    new RegExp(
      `^sluice: job ${job.jobId} is still running \\((pending|active)\\); its results come when it ends \\(sluice watch ${job.jobId}\\)\n$`,
    ),
  );
  await t.host.engine.coordinator.stop(job.jobId);
});
