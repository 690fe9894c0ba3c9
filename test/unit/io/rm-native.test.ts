// rm -r on a local disk goes through a compiled helper: the same counts, failures and progress as
// the JS walker, any path (newlines included) reported as it is, and the walker when no compiler.
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compiledHelper, HelperBuildError } from '../../../shared/io/native/compiled-helper.ts';
import { rmTreeHelper } from '../../../shared/io/native/rm-tree.ts';
import { newCounters } from '../../../shared/io/progress.ts';
import { removeTree } from '../../../shared/io/rm.ts';
import { makeSampleTree, tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('rm-native');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ODD = 'odd \n name\tÿ';

async function makeTree(root: string): Promise<void> {
  await makeSampleTree(root);
  await mkdir(join(root, ODD, 'deeper'), { recursive: true });
  await writeFile(join(root, ODD, 'deeper', ODD), 'x');
  await symlink('/etc', join(root, ODD, 'etc-link'));
  execFileSync('mkfifo', [join(root, 'a/fifo')]);
}

describe('rm -r with the compiled helper', () => {
  it('is there (this machine has a C compiler: the tests need one)', async () => {
    expect(await rmTreeHelper()).toMatch(/rm-tree-[0-9a-f]{16}$/);
  });

  it('removes a tree with the same counts and progress as the JS walker, never following links', async () => {
    await makeTree(join(dir, 'native'));
    await makeTree(join(dir, 'js'));
    const progress = newCounters();
    const n = await removeTree([join(dir, 'native')], { recursive: true, volume: 'local', progress });
    const j = await removeTree([join(dir, 'js')], { recursive: true, volume: 'local', native: false });
    expect(n.failures).toEqual([]);
    expect({ ...n, seconds: 0 }).toEqual({ ...j, seconds: 0 });
    expect(n).toMatchObject({ files: 34, symlinks: 3, directories: 7 });
    expect(progress).toMatchObject({ files: 34, totalFiles: 37 });
    expect(await readdir(dir)).toEqual([]);
    expect((await stat('/etc')).isDirectory()).toBe(true);
  });

  it('reports what cannot be removed under its exact path, removes the rest, keeps its parents', async () => {
    const root = join(dir, 'victim');
    await makeTree(root);
    const stuck = join(root, ODD, 'deeper', ODD);
    // As root, an immutable file is what cannot be removed; otherwise a read-only directory.
    const asRoot = process.getuid?.() === 0;
    try {
      execFileSync(asRoot ? 'chattr' : 'chmod', asRoot ? ['+i', stuck] : ['555', join(root, ODD, 'deeper')], {
        stdio: 'ignore',
      });
    } catch {
      return; // no chattr, or a file system without the attribute: nothing to provoke a failure with
    }
    try {
      const s = await removeTree([root], { recursive: true, volume: 'local' });
      expect(s.failures).toEqual([
        { path: stuck, code: asRoot ? 'EPERM' : 'EACCES', message: expect.stringMatching(/^E[A-Z]+: /) },
      ]);
      expect(await readdir(root)).toEqual([ODD]);
      expect(await readdir(join(root, ODD))).toEqual(['deeper']);
      expect(s.files).toBe(33);
    } finally {
      execFileSync(asRoot ? 'chattr' : 'chmod', asRoot ? ['-i', stuck] : ['755', join(root, ODD, 'deeper')]);
    }
  });

  it('without a C compiler the helper is not built (rm then walks in JS)', async () => {
    const env = { SLUICE_CACHE_DIR: join(dir, 'cache'), CC: join(dir, 'no-such-cc') };
    const err = await compiledHelper('probe', 'int main(void) { return 0; }\n', env).catch((e) => e);
    expect(err).toBeInstanceOf(HelperBuildError);
    expect(err.missingCompiler).toBe(true);
    expect(await readdir(join(dir, 'cache'))).toEqual([]);
  });
});
