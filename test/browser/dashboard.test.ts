// The dashboard in headless Chromium against a real `sluice serve` (its own process, real worker
// processes): submit a stored pipeline from the UI and watch every node succeed, stop a running
// job, read a failed task's error and stderr, see the API's validation message for an invalid
// edit, and re-run from a node. Takes the README's screenshots: into docs/img/ with
// SLUICE_SCREENSHOTS=1 (to refresh them), else into a temp directory, so a test run leaves the tree clean.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeAlgorithms } from '../e2e/fixtures.ts';
import { haveChromium, launchChromium } from '../helpers/browser.ts';
import { REPO, type Served, serve, sluice, sluiceEnv } from '../helpers/process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
const home = join(dir, 'home');
const shot = (name: string) =>
  process.env.SLUICE_SCREENSHOTS === '1' ? join(REPO, 'docs/img', name) : join(dir, name);
let served: Served | undefined;
let browser: Browser | undefined;
let page: Page;

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${served!.url}/api/v1${path}`, {
    method,
    headers: { ...served!.headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: await res.json() };
}

const OK = {
  name: 'dash-ok',
  description: 'three nodes: a batch, its items again, and a fan-in',
  nodes: [
    { nodeName: 'items', algorithmName: 'slow', input: ['#[1...4]', 0.05] },
    { nodeName: 'again', algorithmName: 'slow', input: ['#@items', 0.05] },
    { nodeName: 'total', algorithmName: 'echo', input: ['@again', '@items'] },
  ],
};
const SLOW = {
  name: 'dash-slow',
  nodes: [
    { nodeName: 'first', algorithmName: 'slow', input: ['#[1...2]', 0] },
    { nodeName: 'long', algorithmName: 'slow', input: ['#[1...8]', 30] },
    { nodeName: 'after', algorithmName: 'echo', input: ['@long', '@first'] },
  ],
};
const FAILING = {
  name: 'dash-fail',
  nodes: [
    { nodeName: 'prepare', algorithmName: 'slow', input: ['#[1...3]', 0] },
    { nodeName: 'write', algorithmName: 'fail', input: ['@prepare'] },
  ],
};

const statusText = () => page.getByTestId('job-status').textContent();

async function waitStatus(status: string, timeout = 30_000) {
  await page.getByTestId('job-status').filter({ hasText: status }).waitFor({ timeout });
}

describe.skipIf(!haveChromium())('dashboard in Chromium', () => {
  beforeAll(async () => {
    const algorithms = writeAlgorithms(dir);
    const env = sluiceEnv(home, { SLUICE_TEST_LOG: join(dir, 'log') });
    for (const file of [algorithms.slow, algorithms.fail]) {
      const r = await sluice(['algorithm', 'apply', '-f', file], { env });
      expect(r.code, r.stderr).toBe(0);
    }
    served = await serve(['-w', '2'], { env, cwd: REPO });
    for (const p of [OK, SLOW, FAILING]) expect((await api('POST', '/store/pipelines', p)).status).toBe(201);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    // The link `sluice serve` prints: the page keeps the token for this tab and sends it.
    await page.goto(`${served.url}/#token=${served.token}`);
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    expect(page.url()).not.toContain('token');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (served && served.child.exitCode === null) {
      served.child.kill('SIGTERM');
      await served.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);

  it('runs a stored pipeline from the UI and shows every node succeeded', async () => {
    await page.goto(`${served!.url}/#/pipelines/dash-ok`);
    await page.getByRole('button', { name: 'Run dash-ok' }).click();
    await page.waitForURL(/#\/jobs\/[^/]+$/);
    await waitStatus('completed');
    for (const node of ['items', 'again', 'total']) {
      await expect
        .poll(() => page.locator(`tr[data-node="${node}"] .status`).textContent(), { timeout: 10_000 })
        .toContain('succeeded');
      // The DAG says it in words too, not by colour alone.
      await expect
        .poll(() => page.locator(`g[data-node="${node}"]`).textContent(), { timeout: 10_000 })
        .toContain('succeeded');
    }
    expect(await page.locator('g[data-node="again"]').textContent()).toContain('4/4 ✓');
    // Edge labels: `#@items` into again, `@again` and `@items` into total.
    const labels = await page.locator('.edge-label').allTextContents();
    expect(labels.sort()).toEqual(['#@', '@', '@']);
  }, 90_000);

  it('lists the jobs a node’s code started (code API) and opens one', async () => {
    mkdirSync(join(dir, 'caller'));
    writeFileSync(
      join(dir, 'caller', 'main.py'),
      'def start(args, hkubeApi):\n    return hkubeApi.start_algorithm("slow", [7, 0]).get()\n',
    );
    const alg = { name: 'dash-caller', env: 'python', codePath: join(dir, 'caller'), entryPoint: 'main.py' };
    expect((await api('POST', '/store/algorithms', alg)).status).toBe(201);
    const run = await api('POST', '/exec/raw', {
      name: 'dash-code-api',
      nodes: [{ nodeName: 'caller', algorithmName: 'dash-caller', input: [] }],
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    await page.goto(`${served!.url}/#/jobs/${encodeURIComponent(run.body.jobId)}`);
    await waitStatus('completed');
    const child = page.locator('tr[data-node="caller"] [data-testid="child-job"]');
    await expect.poll(() => child.count(), { timeout: 10_000 }).toBe(1);
    expect(await child.textContent()).toContain('call 1');
    await child.click();
    await page.waitForURL(/#\/jobs\/slow-sub/);
    await waitStatus('completed');
  }, 90_000);

  it('stops a running job and shows it stopped', async () => {
    const { body } = await api('POST', '/exec/stored', { name: 'dash-slow' });
    await page.goto(`${served!.url}/#/jobs/${body.jobId}`);
    await waitStatus('active');
    await expect
      .poll(() => page.locator('g[data-node="long"]').textContent(), { timeout: 20_000 })
      .toContain('▶');
    await expect
      .poll(() => page.locator('g[data-node="first"]').textContent(), { timeout: 20_000 })
      .toContain('succeeded');
    await page.screenshot({ path: shot('job-running.png') });
    // The workers page shows the two slots busy with this job's items.
    await page.getByRole('link', { name: 'Workers' }).click();
    await expect.poll(() => page.getByTestId('workers-running').textContent(), { timeout: 10_000 }).toBe('2');
    expect(await page.locator('table.grid tbody').textContent()).toContain('long');
    await page.goBack();
    await waitStatus('active');
    await page.getByRole('button', { name: 'Stop' }).click();
    await waitStatus('stopped', 15_000);
    expect((await api('GET', `/exec/status/${body.jobId}`)).body.status).toBe('stopped');
    expect(await statusText()).toContain('stopped');
  }, 90_000);

  it('opens a failed task and shows its error and stderr', async () => {
    const { body } = await api('POST', '/exec/stored', { name: 'dash-fail' });
    await page.goto(`${served!.url}/#/jobs/${body.jobId}`);
    await waitStatus('failed');
    await expect
      .poll(() => page.getByTestId('job-reason').textContent(), { timeout: 10_000 })
      .toContain('write');
    await page.screenshot({ path: shot('job-failed.png') });
    await page.locator('g[data-node="write"]').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/nodes\/write$/);
    const detail = page.getByTestId('task-detail');
    await expect.poll(() => detail.textContent(), { timeout: 10_000 }).toContain('failed');
    await expect
      .poll(() => page.getByTestId('task-error').textContent(), { timeout: 10_000 })
      .toContain('disk full');
  }, 90_000);

  it('pages a node’s tasks: a jump to the last rows fetches only their page', async () => {
    const items = 2000;
    const run = await api('POST', '/exec/raw', {
      name: 'dash-many',
      nodes: [{ nodeName: 'many', algorithmName: 'echo', input: [`#[1...${items}]`] }],
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const jobId = run.body.jobId as string;
    await expect
      .poll(async () => (await api('GET', `/exec/status/${jobId}`)).body.status, { timeout: 60_000 })
      .toBe('completed');
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      if (r.url().includes('/exec/tasks/')) asked.push(decodeURIComponent(r.url()));
    };
    page.on('request', onRequest);
    try {
      await page.goto(`${served!.url}/#/jobs/${jobId}/nodes/many`);
      await page.getByRole('heading', { name: `Node many: ${items} tasks` }).waitFor();
      await page.locator(`.vrow[data-task="${jobId}.many.1"]`).waitFor();
      await page.locator('.vbody').evaluate((el) => {
        el.scrollTop = el.scrollHeight;
      });
      const lastRow = page.locator(`.vrow[data-task="${jobId}.many.${items}"]`);
      await lastRow.waitFor({ timeout: 10_000 });
      expect(await lastRow.textContent()).toContain('succeeded');
      // Virtualized: a few dozen rows in the DOM; paged: the first page and the last, never all.
      expect(await page.locator('.vrow[data-task]').count()).toBeLessThan(60);
      const pages = asked.filter((u) => u.includes('limit=200'));
      expect(pages.some((u) => u.includes(`after=${items - 200}`))).toBe(true);
      expect(pages.length).toBeLessThanOrEqual(3);
      expect(asked.every((u) => u.includes('limit=') || u.includes('item='))).toBe(true);
      // The selected task's values are read on their own.
      await lastRow.click();
      await expect
        .poll(() => page.getByTestId('task-detail').textContent(), { timeout: 10_000 })
        .toContain(`many.${items}`);
      await expect
        .poll(() => page.locator('.task-detail .value pre').first().textContent())
        .toContain(`${items}`);
      expect(asked.some((u) => u.includes(`item=${items}`))).toBe(true);
    } finally {
      page.off('request', onRequest);
    }
  }, 120_000);

  it('shows the API’s validation message for an invalid edit and keeps the stored pipeline', async () => {
    await page.goto(`${served!.url}/#/pipelines/dash-ok`);
    await page.getByRole('button', { name: 'JSON' }).click();
    const editor = page.getByRole('textbox', { name: 'dash-ok as json' });
    const text = await editor.inputValue();
    const broken = JSON.parse(text);
    broken.nodes[1].input = ['#@nowhere'];
    await editor.fill(JSON.stringify(broken, null, 2));
    await page.getByRole('button', { name: 'Save' }).click();
    const message = await page.getByTestId('validation').textContent();
    expect(message).toMatch(/nowhere/);
    const stored = (await api('GET', '/store/pipelines/dash-ok')).body;
    expect(stored.nodes[1].input).toEqual(['#@items', 0.05]);
  }, 90_000);

  it('re-runs from a node: a new job that completes', async () => {
    const { body } = await api('POST', '/exec/stored', { name: 'dash-ok' });
    await page.goto(`${served!.url}/#/jobs/${body.jobId}`);
    await waitStatus('completed');
    await page.locator('g[data-node="again"]').click();
    await page.getByRole('button', { name: 'Run from again' }).click();
    await page.waitForURL((u) => !u.hash.includes(body.jobId) && /#\/jobs\/[^/]+$/.test(u.hash));
    await waitStatus('completed');
    const newId = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    const s = (await api('GET', `/exec/status/${newId}`)).body;
    expect(s).toMatchObject({ status: 'completed', origin: { kind: 'caching' } });
  }, 90_000);
});
