import { execFileSync } from 'node:child_process';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodeCache } from '../../../shared/runner/code-cache.ts';
import { WorkerPool } from '../../../shared/runner/worker-pool.ts';
import { algorithm, never, type TempDir, task, tempDir } from '../../helpers/workers.ts';

let dir: TempDir;

beforeAll(async () => {
  dir = await tempDir();
});

afterAll(async () => {
  await dir.remove();
});

/** Builds an archive with Python's tarfile, which (unlike GNU tar) writes whatever names we ask. */
function pyTar(archive: string, script: string): void {
  execFileSync('python3', [
    '-c',
    `import io, tarfile\nt = tarfile.open(${JSON.stringify(archive)}, 'w:gz')\n${script}\nt.close()`,
  ]);
}

const addFile = (name: string, body: string) =>
  `d = ${JSON.stringify(body)}.encode()\ni = tarfile.TarInfo(${JSON.stringify(name)})\ni.size = len(d)\nt.addfile(i, io.BytesIO(d))`;

describe('code archives', () => {
  it('a .tar.gz codePath is extracted once into <cacheDir>/code/<sha256> and runs hot', async () => {
    const src = await dir.code('tgz-src', {
      'pkg/main.py': 'import helper\ndef start(args):\n    return helper.twice(args["input"][0])\n',
      'pkg/helper.py': 'def twice(x):\n    return 2 * x\n',
    });
    const archive = join(dir.path, 'algo.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', join(src, 'pkg'), '.']);
    const cacheDir = join(dir.path, 'cache');
    const pool = new WorkerPool({ cacheDir, maxWorkers: 1 });
    try {
      const alg = algorithm('tgz', 'python', { codePath: archive, entryPoint: 'main.py' });
      expect(await pool.run(task(alg, [21]), never)).toEqual({
        status: 'succeeded',
        result: 42,
        logs: { stdout: [], stderr: [], truncated: false },
      });
      expect(await pool.run(task(alg, [5]), never)).toMatchObject({ result: 10 });
      const sha = execFileSync('sha256sum', [archive], { encoding: 'utf8' }).split(' ')[0];
      expect(await readdir(join(cacheDir, 'code'))).toEqual([sha]);
      expect(await readFile(join(cacheDir, 'code', sha!, 'helper.py'), 'utf8')).toContain('def twice');
    } finally {
      await pool.close();
    }
  });

  it('keeps symlinks that stay inside and long (pax) names', async () => {
    const archive = join(dir.path, 'links.tar.gz');
    const long = `${'d'.repeat(120)}/${'f'.repeat(120)}.txt`;
    pyTar(
      archive,
      [
        addFile('data/a.txt', 'A'),
        addFile(long, 'L'),
        "i = tarfile.TarInfo('alias.txt'); i.type = tarfile.SYMTYPE; i.linkname = 'data/a.txt'; t.addfile(i)",
        "i = tarfile.TarInfo('copy.txt'); i.type = tarfile.LNKTYPE; i.linkname = 'data/a.txt'; t.addfile(i)",
      ].join('\n'),
    );
    const root = await new CodeCache(join(dir.path, 'cache2')).resolve(archive);
    expect(await readFile(join(root, 'alias.txt'), 'utf8')).toBe('A');
    expect((await lstat(join(root, 'alias.txt'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(root, 'copy.txt'), 'utf8')).toBe('A');
    expect(await readFile(join(root, long), 'utf8')).toBe('L');
  });

  it.each([
    ['a .. entry', addFile('../escape.txt', 'x'), /'\.\.\/escape\.txt' points outside/],
    ['an absolute entry', addFile('/tmp/sluice-abs.txt', 'x'), /points outside/],
    [
      'a symlink out',
      "i = tarfile.TarInfo('out'); i.type = tarfile.SYMTYPE; i.linkname = '../../etc'; t.addfile(i)",
      /symlink 'out' points outside/,
    ],
    [
      'a dangling symlink chain that leads outside',
      // x -> . and y -> x/../escaped: lexically inside, really the archive's parent (and dangling).
      "i = tarfile.TarInfo('x'); i.type = tarfile.SYMTYPE; i.linkname = '.'; t.addfile(i)\n" +
        "i = tarfile.TarInfo('y'); i.type = tarfile.SYMTYPE; i.linkname = 'x/../escaped'; t.addfile(i)",
      /symlink 'y' points outside/,
    ],
    [
      'a device file',
      "i = tarfile.TarInfo('dev'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)",
      /unsupported type '3'/,
    ],
  ])('rejects an archive with %s and leaves nothing behind', async (_what, script, message) => {
    const archive = join(dir.path, `bad-${Math.random().toString(36).slice(2)}.tar.gz`);
    pyTar(archive, script);
    const cacheDir = join(dir.path, 'cache-bad');
    await expect(new CodeCache(cacheDir).resolve(archive)).rejects.toThrow(message);
    expect(await readdir(join(cacheDir, 'code')).catch(() => [])).toEqual([]);
    await expect(lstat(join(dir.path, 'escape.txt'))).rejects.toThrow();
  });

  it('a bad codePath fails the task with a message naming it', async () => {
    const pool = new WorkerPool({ cacheDir: join(dir.path, 'cache3'), maxWorkers: 1 });
    try {
      const missing = algorithm('gone', 'python', { codePath: join(dir.path, 'nope') });
      const out = await pool.run(task(missing, []), never);
      expect(out).toMatchObject({ status: 'failed', crashed: false });
      expect(out.status === 'failed' && out.error).toMatch(/^gone: codePath '.*nope' does not exist/);
    } finally {
      await pool.close();
    }
  });
});
