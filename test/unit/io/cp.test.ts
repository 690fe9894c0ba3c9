import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { copyTree } from '../../../shared/io/cp.ts';
import { formatProgress } from '../../../shared/io/progress.ts';
import { runCli } from '../../helpers/cli.ts';
import { makeSampleTree, snapshot, tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('cp');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.each(['local', 'network'] as const)('copyTree (local, --volume %s)', (volume) => {
  // Both ways of driving the file system (local-fs.ts): direct calls, and calls on threads.
  const cp = (...[a, b, o]: Parameters<typeof copyTree>) => copyTree(a, b, { volume, ...o });

  it('copies a tree byte-identically with modes, mtimes, symlinks and empty directories', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = await cp([join(dir, 'src')], join(dir, 'dst'));
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(32);
    expect(s.symlinks).toBe(2);
    expect(await snapshot(join(dir, 'dst'))).toEqual(await snapshot(join(dir, 'src')));
    // diff -r is the judge of content (it follows the dangling link: compare with --no-dereference)
    execFileSync('diff', ['-r', '--no-dereference', join(dir, 'src'), join(dir, 'dst')]);
  });

  it('names the missing destination parent (like cp -r), or creates it when asked (the `cp` algorithm)', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = await cp([join(dir, 'src')], join(dir, 'no/such/dst'));
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]?.message).toContain(`directory ${join(dir, 'no/such')} does not exist`);
    const made = await cp([join(dir, 'src')], join(dir, 'no/such/dst'), { createParents: true });
    expect(made.failures).toEqual([]);
    expect(await snapshot(join(dir, 'no/such/dst'))).toEqual(await snapshot(join(dir, 'src')));
  });

  it('copies into DST/basename(SRC) when DST is an existing directory (cp -r), and several sources', async () => {
    await makeSampleTree(join(dir, 'src'));
    await writeFile(join(dir, 'one.txt'), 'one');
    await mkdir(join(dir, 'out'));
    const s = await cp([join(dir, 'src'), join(dir, 'one.txt')], join(dir, 'out'));
    expect(s.failures).toEqual([]);
    expect(await readFile(join(dir, 'out/one.txt'), 'utf8')).toBe('one');
    expect(await snapshot(join(dir, 'out/src'))).toEqual(await snapshot(join(dir, 'src')));
  });

  it('streams a file larger than the whole-file limit with a small memory budget', async () => {
    await mkdir(join(dir, 'src'));
    const big = Buffer.alloc(21 * 1024 * 1024 + 123);
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await writeFile(join(dir, 'src/big.bin'), big);
    const s = await cp([join(dir, 'src')], join(dir, 'dst'), { maxMemory: 4 * 1024 * 1024 });
    expect(s.failures).toEqual([]);
    expect((await readFile(join(dir, 'dst/big.bin'))).equals(big)).toBe(true);
  });

  it('--update skips files whose size and mtime match and recopies changed ones', async () => {
    await makeSampleTree(join(dir, 'src'));
    await cp([join(dir, 'src')], join(dir, 'dst'));
    await writeFile(join(dir, 'src/a/f2.txt'), 'changed');
    const s = await cp([join(dir, 'src')], join(dir, 'dst'), { update: true, noTargetDirectory: true });
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(1);
    expect(s.skipped).toBe(31 + 2);
    expect(await readFile(join(dir, 'dst/a/f2.txt'), 'utf8')).toBe('changed');
  });

  it('reports a missing source and still copies the others', async () => {
    await writeFile(join(dir, 'ok.txt'), 'ok');
    await mkdir(join(dir, 'out'));
    const s = await cp([join(dir, 'missing'), join(dir, 'ok.txt')], join(dir, 'out'));
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]).toMatchObject({ path: join(dir, 'missing'), code: 'ENOENT' });
    expect(await readFile(join(dir, 'out/ok.txt'), 'utf8')).toBe('ok');
  });

  it('reports an uncopyable item in the middle of a tree (a FIFO), copies the rest', async () => {
    await makeSampleTree(join(dir, 'src'));
    execFileSync('mkfifo', [join(dir, 'src/a/b/pipe')]);
    const s = await cp([join(dir, 'src')], join(dir, 'dst'));
    expect(s.failures.map((f) => f.path)).toEqual([join(dir, 'src/a/b/pipe')]);
    expect(s.failures[0]!.message).toMatch(/fifo/);
    expect(s.files).toBe(32);
    expect(await readFile(join(dir, 'dst/a/b/c/deep.bin'))).toHaveLength(70_000);
  });

  it('reports a file that cannot be written (a directory sits where it goes) under its destination, copies the rest', async () => {
    await makeSampleTree(join(dir, 'src'));
    await mkdir(join(dir, 'dst/a/f5.txt'), { recursive: true });
    const s = await cp([join(dir, 'src')], join(dir, 'dst'), { noTargetDirectory: true });
    expect(s.failures.map((f) => f.path)).toEqual([join(dir, 'dst/a/f5.txt')]);
    expect(s.files).toBe(31);
    // no temp file left behind next to it
    const left = execFileSync('find', [join(dir, 'dst'), '-name', '.sluice-*']).toString();
    expect(left).toBe('');
  });

  it('refuses to copy a directory into itself', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = await cp([join(dir, 'src')], join(dir, 'src/sub'));
    expect(s.failures).toHaveLength(1);
    expect(s.failures[0]!.message).toMatch(/into itself/);
    await expect(stat(join(dir, 'src/sub'))).rejects.toThrow();
  });

  it('several sources need a directory destination', async () => {
    await writeFile(join(dir, 'a'), 'a');
    await expect(cp([join(dir, 'a'), join(dir, 'a')], join(dir, 'nope'))).rejects.toThrow(/not a directory/);
  });

  it('feeds the progress counters (files, bytes, total for the ETA)', async () => {
    await makeSampleTree(join(dir, 'src'));
    const progress = { files: 0, bytes: 0, failed: 0 };
    const s = await cp([join(dir, 'src')], join(dir, 'dst'), { progress });
    expect(progress).toMatchObject({ files: 32, totalFiles: 32, bytes: s.bytes, failed: 0 });
    expect(formatProgress('cp', progress, 1000)).toMatch(
      /^cp: 32\/32 files, .* 32 files\/s, .* MB\/s ETA 00:00$/,
    );
  });

  it('copies a symlink given as the source as a symlink', async () => {
    await symlink('/etc/hostname', join(dir, 'ln'));
    const s = await cp([join(dir, 'ln')], join(dir, 'ln2'));
    expect(s.symlinks).toBe(1);
    expect((await snapshot(dir)).ln2).toMatchObject({ kind: 'symlink', target: '/etc/hostname' });
  });
});

describe('sluice cp (CLI)', () => {
  it('takes --volume local|network|auto and refuses anything else', async () => {
    await makeSampleTree(join(dir, 'src'));
    for (const v of ['network', 'local']) {
      const r = await runCli(['cp', '--json', '--volume', v, 'src', `dst-${v}`], { cwd: dir });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ files: 32, failures: [] });
    }
    const src = await snapshot(join(dir, 'src'));
    expect(await snapshot(join(dir, 'dst-network'))).toEqual(src);
    expect(await snapshot(join(dir, 'dst-local'))).toEqual(src);
    const bad = await runCli(['cp', '--volume', 'nfs', 'src', 'dst'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are auto, local, network/);
  });

  it('prints a JSON summary and exits 0', async () => {
    await makeSampleTree(join(dir, 'src'));
    const r = await runCli(['cp', '--json', '-j', '8', 'src', 'dst'], { cwd: dir });
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ operation: 'cp', files: 32, symlinks: 2, failures: [] });
    expect(s.bytes).toBeGreaterThan(70_000);
  });

  it('exits 1 and lists each failure when an item fails, after copying the rest', async () => {
    await makeSampleTree(join(dir, 'src'));
    execFileSync('mkfifo', [join(dir, 'src/pipe')]);
    const r = await runCli(['cp', '--json', 'src', 'dst'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).failures).toHaveLength(1);
    expect(r.stderr).toContain(`${join(dir, 'src/pipe')}: is a fifo`);
    expect(await readFile(join(dir, 'dst/a/f1.txt'), 'utf8')).toBe('file 1\n'.repeat(50));
  });

  it('keeps mtimes on a re-run with -u (nothing recopied)', async () => {
    await makeSampleTree(join(dir, 'src'));
    await runCli(['cp', 'src', 'dst'], { cwd: dir });
    const old = new Date('2010-01-01T00:00:00Z');
    await utimes(join(dir, 'dst/exec.sh'), old, old); // looks stale: must be recopied
    const r = await runCli(['cp', '-u', '-T', '--json', 'src', 'dst'], { cwd: dir });
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, skipped: 33 });
  });

  it('explains usage errors', async () => {
    const r = await runCli(['cp', 'only-one'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/needs a source and a destination/);
  });
});
