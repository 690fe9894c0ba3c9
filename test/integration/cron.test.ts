// Cron triggers in a serving engine (InlineRunner, real HTTP): a 6-field pattern fires every
// second; `cron stop` ends it, `cron start` resumes it; `cron list` shows the next run.
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHost } from '../helpers/engine.ts';
import { waitFor } from '../helpers/process.ts';

let h: Awaited<ReturnType<typeof startTestHost>> | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

function call<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  if (!h) throw new Error('no test host');
  return h.call<T>(method, path, body);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cronJobs = async () =>
  (await call<{ jobId: string }[]>('GET', '/exec/jobs?pipelineName=ticker')).length;

describe('cron triggers while serving', () => {
  it('*/1 * * * * * fires every second; cron stop stops it; cron start resumes it', async () => {
    h = await startTestHost({ cron: true });
    await call('POST', '/store/pipelines', {
      name: 'ticker',
      nodes: [{ nodeName: 'E', algorithmName: 'echo', input: ['@flowInput.n'] }],
      flowInput: { n: 1 },
      triggers: { cron: { pattern: '*/1 * * * * *', enabled: true } },
    });
    const [entry] = await call<{ name: string; enabled: boolean; nextRun: string }[]>('GET', '/cron/list');
    expect(entry).toMatchObject({ name: 'ticker', pattern: '*/1 * * * * *', enabled: true });
    const next = Date.parse(entry?.nextRun as string);
    expect(next).toBeGreaterThan(Date.now() - 100);
    expect(next).toBeLessThanOrEqual(Date.now() + 1100);

    // Firings are awaited, not timed: on a loaded machine a submit can take longer than a second.
    await waitFor('two cron firings', async () => (await cronJobs()) >= 2 || undefined);
    const jobs = await call<{ jobId: string }[]>('GET', '/exec/jobs?pipelineName=ticker');
    const status = await call<{ origin: unknown }>('GET', `/exec/status/${jobs[0]?.jobId}`);
    expect(status.origin).toEqual({ kind: 'cron' });

    expect(await call('POST', '/cron/stop', { name: 'ticker' })).toEqual({
      name: 'ticker',
      pattern: '*/1 * * * * *',
      enabled: false,
    });
    // A firing already past its enabled check when the stop landed may still add its job.
    await sleep(1200);
    const atStop = await cronJobs();
    const [stopped] = await call<{ enabled: boolean; nextRun?: string }[]>('GET', '/cron/list');
    expect(stopped).toEqual({ name: 'ticker', pattern: '*/1 * * * * *', enabled: false });
    await sleep(2200);
    expect(await cronJobs()).toBe(atStop);

    await call('POST', '/cron/start', { name: 'ticker' });
    await waitFor('a firing after cron start', async () => (await cronJobs()) > atStop || undefined);
  });

  it('a 5-field pattern is scheduled on minute boundaries', async () => {
    h = await startTestHost({ cron: true });
    await call('POST', '/store/pipelines', {
      name: 'minutely',
      nodes: [{ nodeName: 'E', algorithmName: 'echo', input: [1] }],
      triggers: { cron: { pattern: '*/5 * * * *', enabled: true } },
    });
    const [entry] = await call<{ nextRun: string }[]>('GET', '/cron/list');
    const next = new Date(entry?.nextRun as string);
    expect(next.getUTCSeconds()).toBe(0);
    expect(next.getUTCMinutes() % 5).toBe(0);
    expect(next.getTime() - Date.now()).toBeLessThanOrEqual(5 * 60_000);
  });
});
