// The dashboard under a 100,000-task job, in headless Chromium (Debian's, via playwright-core):
// time from navigation until the job page answers a click, the longest task in the browser's
// performance timeline while live updates arrive, and the node's 100,000-row task table (load
// time, long tasks while scrolling). The engine-dispatch suite's `--dashboard` option measures
// what the event stream costs the engine.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dashboardHandler, ensureDashboard } from '../../shared/runtime/embedded/dashboard-files.ts';
import { EngineHost } from '../../shared/runtime/embedded/engine-host.ts';
import type { BenchSuite } from '../types.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LONG_TASKS = `window.__long = [];
new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e.duration); })
  .observe({ type: 'longtask', buffered: true });`;

export const dashboardSuite: BenchSuite = {
  name: 'dashboard',
  description: 'web dashboard with a 100,000-task job: time to interactive, long tasks, task table',
  async unavailable() {
    return existsSync(CHROMIUM) ? undefined : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
  },
  async run(args) {
    const items = Number(args.find((a) => a.startsWith('--items='))?.slice(8) ?? 100_000);
    const { chromium } = await import('playwright-core');
    const home = mkdtempSync(join(tmpdir(), 'sluice-bench-dash-'));
    const host = await EngineHost.start({
      home,
      port: 0,
      workers: 2,
      extraHandler: dashboardHandler(await ensureDashboard()),
    });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const job = await host.engine.coordinator.submit({
        name: 'bench-dashboard',
        options: { ttl: 3600 },
        nodes: [
          { nodeName: 'fan', algorithmName: 'echo', input: [`#[1...${items}]`] },
          { nodeName: 'reduce', algorithmName: 'echo', input: ['@fan'] },
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      await page.addInitScript(LONG_TASKS);
      // The link `sluice serve` prints: the tab keeps the token.
      await page.goto(`${host.url}/#token=${host.token ?? ''}`);
      // While the job runs: navigation → the page answers a click on a DAG node.
      const t0 = performance.now();
      await page.goto(`${host.url}/#/jobs/${job.jobId}`);
      await page.locator('g[data-node="fan"]').click();
      await page.getByRole('button', { name: 'Run from fan' }).waitFor();
      const interactiveMs = performance.now() - t0;
      const watchMs = 10_000;
      const before = await page.getByTestId('job-status').textContent();
      await page.waitForTimeout(watchMs);
      const during = (await page.evaluate('window.__long')) as number[];
      const counts = await page.locator('g[data-node="fan"] .node-counts').textContent();
      await host.engine.waitForJob(job.jobId);
      // The node's task table: load, then scroll through it with the keyboard.
      await page.evaluate('window.__long = []');
      const t1 = performance.now();
      await page.goto(`${host.url}/#/jobs/${job.jobId}/nodes/fan`);
      await page.locator('.vrow[data-task]').first().waitFor({ timeout: 120_000 });
      const tableMs = performance.now() - t1;
      const loading = (await page.evaluate('window.__long')) as number[];
      await page.evaluate('window.__long = []');
      await page.locator('.vtable').focus();
      for (let i = 0; i < 100; i++) await page.keyboard.press('PageDown');
      await page.locator('.vbody').evaluate((el) => {
        el.scrollTop = el.scrollHeight / 2;
      });
      await page.waitForTimeout(500);
      const scrolling = (await page.evaluate('window.__long')) as number[];
      const rows = await page.locator('.vrow[data-task]').count();
      const max = (xs: number[]) => Math.round(Math.max(0, ...xs));
      console.log('what\tvalue');
      console.log(
        `job page interactive after navigation (ms, ${items}-task job running)\t${interactiveMs.toFixed(0)}`,
      );
      console.log(
        `long tasks while updates arrive (${watchMs / 1000} s): count / longest (ms)\t${during.length} / ${max(during)}`,
      );
      console.log(`job status then; fan counts after\t${before} ; ${counts}`);
      console.log(`task table of ${items} tasks: first rows shown after (ms)\t${tableMs.toFixed(0)}`);
      console.log(`task table load: long tasks count / longest (ms)\t${loading.length} / ${max(loading)}`);
      console.log(
        `task table scrolling (100 × PageDown, jump): long tasks / longest (ms)\t${scrolling.length} / ${max(scrolling)}`,
      );
      console.log(`rows in the DOM (virtualized)\t${rows}`);
    } finally {
      await browser.close();
      await host.close();
      rmSync(home, { recursive: true, force: true });
    }
  },
};
