import { execFileSync } from 'node:child_process';
import { readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { zipTree } from '../../../shared/io/zip.ts';
import type { ZipSink } from '../../../shared/io/zip-sink.ts';
import { ZipWriter } from '../../../shared/io/zip-writer.ts';
import { runCli } from '../../helpers/cli.ts';
import { makeSampleTree, tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('zip');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Python's zipfile reads the archive: names, dates, unix modes, and checks every CRC. */
function pyList(zip: string): { name: string; date: number[]; mode: number; size: number }[] {
  const py = `
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([{"name": i.filename, "date": list(i.date_time), "mode": i.external_attr >> 16, "size": i.file_size} for i in z.infolist()]))`;
  return JSON.parse(execFileSync('python3', ['-c', py, zip]).toString());
}

describe.each(['local', 'network'] as const)('zipTree (--volume %s)', (volume) => {
  // Both ways of driving the file system (local-fs.ts): direct calls, and calls on threads.
  const zip = (...[a, b, o]: Parameters<typeof zipTree>) => zipTree(a, b, { volume, ...o });

  it('writes a stored zip that unzip -t, zipinfo and Python accept, with names, dirs, modes and dates', async () => {
    await makeSampleTree(join(dir, 'src'));
    const out = join(dir, 'out.zip');
    const s = await zip(out, [join(dir, 'src')], { sort: true });
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(32);
    expect(execFileSync('unzip', ['-t', out]).toString()).toContain('No errors detected');
    const names = execFileSync('zipinfo', ['-1', out]).toString().trim().split('\n');
    expect(names).toContain('src/');
    expect(names).toContain('src/empty/');
    expect(names).toContain('src/a/b/c/deep.bin');
    expect(names).toEqual([...names].sort());
    expect(execFileSync('zipinfo', [out]).toString()).toMatch(/-rwxr-x---.* stor .* src\/exec\.sh/);
    const entries = pyList(out);
    const f3 = entries.find((e) => e.name === 'src/a/f3.txt')!;
    const d = new Date('2001-02-03T04:05:06Z');
    expect(f3.date).toEqual([
      d.getFullYear(),
      d.getMonth() + 1,
      d.getDate(),
      d.getHours(),
      d.getMinutes(),
      6,
    ]);
    expect(entries.find((e) => e.name === 'src/link-to-f1')!.mode & 0o170000).toBe(0o120000);
    // Extracted again, the content is identical.
    execFileSync('unzip', ['-q', out, '-d', join(dir, 'x')]);
    execFileSync('diff', ['-r', '--no-dereference', join(dir, 'src'), join(dir, 'x/src')]);
  });

  it('--sort gives byte-identical zips for identical input; --root changes the names', async () => {
    await makeSampleTree(join(dir, 'src'));
    await zip(join(dir, 'a.zip'), [join(dir, 'src')], { sort: true, jobs: 3 });
    await zip(join(dir, 'b.zip'), [join(dir, 'src')], { sort: true, jobs: 50 });
    expect((await readFile(join(dir, 'a.zip'))).equals(await readFile(join(dir, 'b.zip')))).toBe(true);
    await zip(join(dir, 'c.zip'), [join(dir, 'src/a')], { sort: true, root: join(dir, 'src') });
    expect(
      execFileSync('zipinfo', ['-1', join(dir, 'c.zip')])
        .toString()
        .split('\n')[0],
    ).toBe('a/');
  });

  it('deflates when asked, and streams large files (data descriptor) within a small budget', async () => {
    await makeSampleTree(join(dir, 'src'));
    const big = Buffer.alloc(19 * 1024 * 1024, 'abcdefgh');
    await writeFile(join(dir, 'src/big.txt'), big);
    const out = join(dir, 'd.zip');
    const s = await zip(out, [join(dir, 'src')], { deflate: true, maxMemory: 2 * 1024 * 1024 });
    expect(s.failures).toEqual([]);
    expect(execFileSync('unzip', ['-t', out]).toString()).toContain('No errors detected');
    expect(execFileSync('zipinfo', [out]).toString()).toMatch(/defN.* src\/big\.txt/);
    expect(execFileSync('unzip', ['-p', out, 'src/big.txt'], { maxBuffer: 64 << 20 }).equals(big)).toBe(true);
  });

  it('reports unreadable items (a FIFO) and a missing input, zips the rest, exit 1 from the CLI', async () => {
    await makeSampleTree(join(dir, 'src'));
    execFileSync('mkfifo', [join(dir, 'src/a/pipe')]);
    const r = await runCli(['zip', '--json', 'out.zip', 'src', 'missing'], { cwd: dir });
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.failures.map((f: { path: string }) => f.path).sort()).toEqual([
      join(dir, 'missing'),
      join(dir, 'src/a/pipe'),
    ]);
    expect(s.files).toBe(32);
    expect(execFileSync('unzip', ['-t', join(dir, 'out.zip')]).toString()).toContain('No errors detected');
  });

  it('does not zip its own output when it is written inside an input', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = await zip(join(dir, 'src/self.zip'), [join(dir, 'src')]);
    expect(s.failures).toEqual([]);
    const names = execFileSync('zipinfo', ['-1', join(dir, 'src/self.zip')]).toString();
    expect(names).not.toMatch(/self\.zip|\.sluice-/);
  });

  it('does not zip its own output written through an alias of an input (real paths compared)', async () => {
    await makeSampleTree(join(dir, 'in'));
    await symlink(join(dir, 'in'), join(dir, 'alias'));
    const s = await zip('alias/out.zip', ['in'], { cwd: dir });
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(32);
    const names = execFileSync('zipinfo', ['-1', join(dir, 'in/out.zip')]).toString();
    expect(names).not.toMatch(/out\.zip|\.sluice-/);
  });
});

describe('ZipWriter', () => {
  it('switches to zip64 end records past 65535 entries, and Python reads them all', async () => {
    const chunks: Buffer[] = [];
    const sink: ZipSink = {
      ownPaths: [],
      write: async (c) => void chunks.push(...c),
      commit: async () => {},
      abort: async () => {},
    };
    const w = new ZipWriter(sink);
    const data = Buffer.from('x');
    const { crc32 } = await import('node:zlib');
    for (let i = 0; i < 70_000; i++)
      await w.addBuffered({ name: `f${i}`, mode: 0o100644, mtimeMs: Date.UTC(2020, 0, 1) }, data, {
        method: 0,
        crc: crc32(data),
        size: 1,
      });
    await w.finish();
    const zip = join(dir, 'many.zip');
    await writeFile(zip, Buffer.concat(chunks));
    const count = execFileSync('python3', [
      '-c',
      'import sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))',
      zip,
    ]);
    expect(Number(count.toString())).toBe(70_000);
    expect(execFileSync('unzip', ['-tq', zip]).toString()).toMatch(/No errors detected/);
  });
});
