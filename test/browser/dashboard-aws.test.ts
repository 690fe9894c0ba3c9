// The dashboard on the AWS path, in headless Chromium: the page served by the api function (on
// the emulators), opened through `sluice dashboard`'s proxy (which adds the API's credentials the
// browser does not have), follows a job to its end over the bounded event stream — each answer
// ends and the page reconnects with the last id — without reloading.
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allBuiltins } from '../../shared/builtins/registry.ts';
import type { BuiltinAlgorithm } from '../../shared/ports/builtin-algorithm.ts';
import { InlineRunner } from '../../shared/runner/inline-runner.ts';
import { createApiProxy } from '../../shared/runtime/api-proxy.ts';
import { type LocalAwsStack, startLocalAwsStack } from '../../shared/runtime/aws-emulated/stack.ts';
import { ensureDashboard } from '../../shared/runtime/embedded/dashboard-files.ts';
import { startAwsTestBed } from '../helpers/aws-emulators.ts';
import { haveChromium, launchChromium } from '../helpers/browser.ts';

let openGate: () => void = () => {};
const gate = new Promise<void>((r) => {
  openGate = r;
});
const gated: BuiltinAlgorithm = {
  name: 'gate',
  description: 'waits for the test',
  ioBound: true,
  run: async (input) => {
    await gate;
    return input;
  },
};
const builtins = allBuiltins();
builtins.set(gated.name, gated);

const API_TOKEN = 'a'.repeat(43);
const PROXY_TOKEN = 'p'.repeat(43);
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;
let proxy: ReturnType<typeof createApiProxy>;
let at: string;
let browser: Browser | undefined;
let page: Page;

describe.skipIf(!haveChromium())('the dashboard on the AWS path, in Chromium', () => {
  beforeAll(async () => {
    bed = await startAwsTestBed('dash');
    stack = await startLocalAwsStack({
      env: { ...process.env, ...bed.env },
      builtins,
      runner: new InlineRunner(builtins, 2),
      slots: 2,
      s3PollMs: 0,
      http: {
        port: 0,
        host: '127.0.0.1',
        guard: { boundHost: '127.0.0.1', token: API_TOKEN },
        dashboard: await ensureDashboard(),
      },
      events: { windowMs: 2000, pollMs: 200 },
      onError: () => {},
    });
    proxy = createApiProxy({
      target: stack.url as string,
      guard: { boundHost: '127.0.0.1', token: PROXY_TOKEN },
      authHeaders: async (_m, _u, body) => ({
        authorization: `Bearer ${API_TOKEN}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      }),
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    at = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    await page.goto(`${at}/#token=${PROXY_TOKEN}`);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
  }, 120_000);

  afterAll(async () => {
    openGate();
    await browser?.close();
    if (proxy) {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
    await stack?.close();
    await bed?.close();
  });

  it('shows a running job, then its end, from the bounded stream alone', async () => {
    const res = await fetch(`${stack.url}/api/v1/exec/raw`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'gated-ui',
        nodes: [
          { nodeName: 'Wait', algorithmName: 'gate', input: ['#[1...4]'] },
          { nodeName: 'Sink', algorithmName: 'echo', input: ['@Wait'] },
        ],
      }),
    });
    expect(res.status).toBe(201);
    const { jobId } = (await res.json()) as { jobId: string };
    type Tab = { location: { hash: string }; sluiceMarker?: number };
    await page.evaluate((id) => {
      const tab = globalThis as unknown as Tab;
      tab.sluiceMarker = 1; // gone if the page reloads
      tab.location.hash = `#/jobs/${encodeURIComponent(id)}`;
    }, jobId);
    const status = page.getByTestId('job-status');
    await status.filter({ hasText: 'active' }).waitFor({ timeout: 60_000 });
    // Two bounded answers go by with nothing new while the tasks wait; the page keeps following.
    await page.waitForTimeout(4500);
    openGate();
    await status.filter({ hasText: 'completed' }).waitFor({ timeout: 90_000 });
    expect(await page.getByText('100%').count()).toBeGreaterThan(0);
    expect(await page.evaluate(() => (globalThis as unknown as Tab).sluiceMarker)).toBe(1);
  }, 180_000);

  it('lists each worker with what it finished on the workers page', async () => {
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/workers';
    });
    const lines = page.getByTestId('worker-lines');
    await lines.waitFor({ timeout: 30_000 });
    // The worker of the job above reported its 4 gate tasks and the sink (every 5 s).
    await lines.getByText(/^5 \(0 failed\)$/).waitFor({ timeout: 30_000 });
    expect(await lines.locator('tbody tr').count()).toBe(1);
  }, 60_000);
});
