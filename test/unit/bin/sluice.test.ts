// bin/sluice.js runs dist/ only while the build matches the sources. Checked on a copy of bin/,
// scripts/build.mjs and the tsconfigs around a one-file CLI whose main() prints its own URL, so
// the real build is used and the repository's own sources and dist/ are never touched.
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/process.ts';

const exec = promisify(execFile);

describe('bin/sluice.js: dist/ or the TypeScript sources', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-bin-'));
    for (const path of ['bin', 'scripts', 'tsconfig.json', 'tsconfig.build.json']) {
      await cp(join(REPO, path), join(dir, path), { recursive: true });
    }
    await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
    await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
    await mkdir(join(dir, 'cli'));
    await mkdir(join(dir, 'shared'));
    await writeFile(
      join(dir, 'cli/main.ts'),
      "import { ANSWER } from '../shared/answer.ts';\n\n" +
        'export async function main(_argv: string[]): Promise<number> {\n' +
        '  process.stdout.write(import.meta.url + " " + ANSWER + "\\n");\n' +
        '  return 0;\n' +
        '}\n',
    );
    await writeFile(join(dir, 'shared/answer.ts'), 'export const ANSWER: number = 42;\n');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const build = () => exec(process.execPath, ['scripts/build.mjs'], { cwd: dir });
  const sluice = async () => {
    const { stdout, stderr } = await exec(process.execPath, [join(dir, 'bin/sluice.js'), '--version'], {
      env: { ...process.env, SLUICE_DEBUG: '1' },
    });
    return { ran: stdout.trim(), said: stderr.trim() };
  };
  const setMtime = (path: string, seconds: number) => utimes(join(dir, path), seconds, seconds);

  it('runs the sources through tsx before anything was built', async () => {
    const r = await sluice();
    expect(r.ran).toMatch(/\/cli\/main\.ts 42$/);
    expect(r.said).toContain('dist/ has not been built');
  });

  it('runs dist/ while it is fresh, the sources once one of them changed', async () => {
    await build();
    const fresh = await sluice();
    expect(fresh.ran).toMatch(/\/dist\/cli\/main\.js 42$/);
    expect(fresh.said).toMatch(/^sluice: running the build in dist\/ \(\d+ threads\)$/);

    // Newer than the build, and (restored from elsewhere) older: both differ from what was built.
    for (const seconds of [Date.now() / 1000 + 60, Date.now() / 1000 - 86_400]) {
      await setMtime('shared/answer.ts', seconds);
      const stale = await sluice();
      expect(stale.ran).toMatch(/\/cli\/main\.ts 42$/);
      expect(stale.said).toContain('shared/answer.ts changed since the build');
    }

    await build();
    expect((await sluice()).ran).toMatch(/\/dist\/cli\/main\.js 42$/);
  });

  it('runs the bundle in dist/worker instead when the build made one, and the sources once stale', async () => {
    await build();
    const bundle = join(dir, 'dist/worker/cli.js');
    await mkdir(join(dir, 'dist/worker'), { recursive: true });
    await writeFile(
      bundle,
      'export async function main() {\n  process.stdout.write(import.meta.url + " 43\\n");\n  return 0;\n}\n',
    );
    try {
      const r = await sluice();
      expect(r.ran).toMatch(/\/dist\/worker\/cli\.js 43$/);
      expect(r.said).toMatch(/^sluice: running the bundle in dist\/worker\/ \(\d+ threads\)$/);
      await setMtime('shared/answer.ts', Date.now() / 1000 + 120);
      expect((await sluice()).ran).toMatch(/\/cli\/main\.ts 42$/);
    } finally {
      await rm(join(dir, 'dist/worker'), { recursive: true, force: true });
    }
  });

  it('runs the sources once a source file was added or deleted', async () => {
    await build();
    await writeFile(join(dir, 'shared/extra.ts'), 'export const EXTRA = 1;\n');
    const added = await sluice();
    expect(added.ran).toMatch(/\/cli\/main\.ts 42$/);
    expect(added.said).toContain('shared/extra.ts is not in the build');

    await build();
    await rm(join(dir, 'shared/extra.ts'));
    const deleted = await sluice();
    expect(deleted.ran).toMatch(/\/cli\/main\.ts 42$/);
    expect(deleted.said).toContain('shared/extra.ts was deleted since the build');
  });

  it('runs dist/ of an installed package although npm gave every file the same mtime', async () => {
    await build();
    const installed = join(dir, 'prefix/lib/node_modules/sluice');
    await mkdir(installed, { recursive: true });
    for (const path of [
      'bin',
      'cli',
      'shared',
      'dist',
      'tsconfig.json',
      'tsconfig.build.json',
      'package.json',
    ]) {
      await cp(join(dir, path), join(installed, path), { recursive: true });
    }
    await symlink(join(REPO, 'node_modules'), join(installed, 'node_modules'), 'dir');
    const npmTarballTime = Date.parse('1985-10-26T08:15:00Z') / 1000;
    await utimes(join(installed, 'shared/answer.ts'), npmTarballTime, npmTarballTime);
    const { stdout } = await exec(process.execPath, [join(installed, 'bin/sluice.js'), '--version']);
    expect(stdout.trim()).toMatch(/\/prefix\/lib\/node_modules\/sluice\/dist\/cli\/main\.js 42$/);
  });
});

// What `npm pack` / `npm install -g` ship: the command, its sources and build, the examples and
// docs; no tests, benchmarks or infrastructure code.
it('the package holds what `sluice` needs at run time and no tests', async () => {
  const { stdout } = await exec('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO });
  const files = new Set<string>(JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path));
  for (const needed of [
    'bin/sluice.js',
    'bin/build-freshness.js',
    'cli/main.ts',
    'shared/runner/python_host.py',
    'shared/runner/node_host.mjs',
    'examples/numbers/pipeline.yml',
    'README.md',
    'package.json',
  ]) {
    expect(files.has(needed), needed).toBe(true);
  }
  for (const path of files) expect(path).not.toMatch(/^(test|bench|infra|node_modules)\//);
});
