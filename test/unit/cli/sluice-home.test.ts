// An empty SLUICE_HOME is a mistake (an unset variable expanded in a script), not "the current
// directory": every command says so in one line and creates nothing.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-home-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(
  join(dir, 'pipeline.yml'),
  'name: p\nnodes:\n  - nodeName: a\n    algorithmName: echo\n    input: [1]\n',
);

it.each([
  ['exec', 'jobs'],
  ['run', 'pipeline.yml'],
  ['serve', '--port', '0'],
])('sluice %s with SLUICE_HOME="" fails in one line and creates nothing', async (...args) => {
  const r = await runCli(args, { env: { ...process.env, SLUICE_HOME: '' }, cwd: dir });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe('sluice: SLUICE_HOME is set but empty: unset it (./.sluice) or name a directory\n');
  expect(readdirSync(dir)).toEqual(['pipeline.yml']);
});

// A read-only command run in some directory answers from an empty state and leaves no `.sluice`
// behind; the first command that stores something creates the home.
it.each([
  ['exec', 'jobs'],
  ['exec', 'jobs', '--json'],
  ['pipeline', 'list'],
  ['algorithm', 'list'],
  ['cron', 'list'],
])('sluice %s in a directory without a home creates nothing', async (...args) => {
  const cwd = mkdtempSync(join(dir, 'ro-'));
  const env = { ...process.env };
  delete env.SLUICE_HOME;
  delete env.SLUICE_ENDPOINT;
  const r = await runCli(args, { env, cwd });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(readdirSync(cwd)).toEqual([]);
});

it('a job id asked of a missing home is "not found", and storing creates the home', async () => {
  const cwd = mkdtempSync(join(dir, 'rw-'));
  const env = { ...process.env };
  delete env.SLUICE_HOME;
  delete env.SLUICE_ENDPOINT;
  const missing = await runCli(['exec', 'status', 'nope'], { env, cwd });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe('sluice: job nope not found\n');
  expect(readdirSync(cwd)).toEqual([]);
  const stored = await runCli(['pipeline', 'store', '-f', join(dir, 'pipeline.yml')], { env, cwd });
  expect(stored.code).toBe(0);
  expect(readdirSync(cwd)).toEqual(['.sluice']);
  const listed = await runCli(['pipeline', 'list', '--json'], { env, cwd });
  expect(JSON.parse(listed.stdout).map((p: { name: string }) => p.name)).toEqual(['p']);
});
