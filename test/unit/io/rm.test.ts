import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeTree } from '../../../shared/io/rm.ts';
import { runCli } from '../../helpers/cli.ts';
import { makeSampleTree, tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('rm');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(['local', 'network'] as const)('removeTree (--volume %s)', (volume) => {
  // Both ways of driving the file system (local-fs.ts): direct calls, and calls on threads.
  const rmTree = (...[t, o]: Parameters<typeof removeTree>) => removeTree(t, { volume, ...o });

  it('removes a tree, leaves siblings and the targets of symlinks inside it intact', async () => {
    await makeSampleTree(join(dir, 'victim'));
    await mkdir(join(dir, 'keep'));
    await writeFile(join(dir, 'keep/precious'), 'p');
    await writeFile(join(dir, 'victim-sibling'), 's');
    await symlink(join(dir, 'keep'), join(dir, 'victim/a/b/link-to-keep'));
    await symlink(join(dir, 'keep/precious'), join(dir, 'victim/link-to-file'));
    const s = await rmTree([join(dir, 'victim')], { recursive: true });
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(32);
    expect(s.symlinks).toBe(4);
    expect(s.directories).toBe(5);
    expect((await readdir(dir)).sort()).toEqual(['keep', 'victim-sibling']);
    expect(await readFile(join(dir, 'keep/precious'), 'utf8')).toBe('p');
  });

  it('removes a symlink target as the link itself, never what it points to', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real/x'), 'x');
    await symlink(join(dir, 'real'), join(dir, 'ln'));
    const s = await rmTree([join(dir, 'ln')], { recursive: true });
    expect(s.symlinks).toBe(1);
    expect(await readFile(join(dir, 'real/x'), 'utf8')).toBe('x');
  });

  it('refuses /, . and .. before removing anything', async () => {
    await writeFile(join(dir, 'f'), 'f');
    for (const t of ['/', '.', '..', './', 'x/..', '//']) {
      await expect(rmTree([join(dir, 'f'), t], { recursive: true, cwd: dir })).rejects.toThrow(/refusing/);
    }
    expect(await readFile(join(dir, 'f'), 'utf8')).toBe('f');
  });

  it('reports a missing target (unless force) and removes the others', async () => {
    await writeFile(join(dir, 'f'), 'f');
    const s = await rmTree([join(dir, 'nope'), join(dir, 'f')], { recursive: true });
    expect(s.failures).toMatchObject([{ path: join(dir, 'nope'), code: 'ENOENT' }]);
    await expect(stat(join(dir, 'f'))).rejects.toThrow();
    const forced = await rmTree([join(dir, 'nope')], { force: true });
    expect(forced.failures).toEqual([]);
  });

  it('reports what cannot be removed, removes the rest, and keeps the parents of failures', async () => {
    await makeSampleTree(join(dir, 'victim'));
    // Root may unlink anything, so as root the failing item is a target removed twice.
    if (process.getuid?.() !== 0) {
      execFileSync('chmod', ['555', join(dir, 'victim/a/b')]);
      const s = await rmTree([join(dir, 'victim')], { recursive: true });
      expect(s.failures.length).toBeGreaterThan(0);
      expect(await stat(join(dir, 'victim/a/b/c/deep.bin'))).toBeTruthy();
      execFileSync('chmod', ['755', join(dir, 'victim/a/b')]);
    } else {
      const s = await rmTree([join(dir, 'victim'), join(dir, 'victim')], { recursive: true });
      expect(s.failures).toHaveLength(1);
      expect(s.failures[0]!.code).toBe('ENOENT');
      expect(s.files).toBe(32);
    }
  });
});

describe('sluice rm (CLI)', () => {
  it('needs -r for a directory, removes it with -r, prints JSON', async () => {
    await makeSampleTree(join(dir, 'victim'));
    const no = await runCli(['rm', 'victim'], { cwd: dir });
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/is a directory \(use -r\)/);
    const r = await runCli(['rm', '-r', '--json', 'victim'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ operation: 'rm', files: 32, failures: [] });
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses rm -r / and rm -r . with exit 1', async () => {
    for (const t of ['/', '.']) {
      const r = await runCli(['rm', '-r', t], { cwd: dir });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/refusing to remove/);
    }
  });
});
