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
