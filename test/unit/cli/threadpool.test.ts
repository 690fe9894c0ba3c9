import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FEW_THREADS, MANY_THREADS, threadpoolSize } from '../../../cli/threadpool.ts';
import { REPO } from '../../helpers/process.ts';
import { tempDir } from '../../helpers/tree.ts';

const exec = promisify(execFile);

let dir: string;
beforeEach(async () => {
  dir = await tempDir('threads');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('threadpoolSize', () => {
  it('answers the same from the one-file bundle bin/sluice.js loads (dist/cli/threadpool.cjs)', () => {
    const bundle = join(REPO, 'dist', 'cli', 'threadpool.cjs');
    if (!existsSync(bundle)) return; // no build (bin/sluice.js then loads dist/cli/threadpool.js)
    const bundled = createRequire(import.meta.url)(bundle) as { threadpoolSize: typeof threadpoolSize };
    for (const args of [
      ['make', '-j', '4'],
      ['rm', '-r', dir],
      ['cp', dir, 's3://bucket/x'],
      ['cp', '--volume=network', dir, dir],
      ['run', 'p.yml'],
      [],
    ]) {
      expect(bundled.threadpoolSize(args, dir)).toBe(threadpoolSize(args, dir));
    }
  });

  it('gives local-disk cp/zip/rm a few threads and network volumes or S3 many', () => {
    expect(threadpoolSize(['rm', '-r', dir])).toBe(FEW_THREADS);
    expect(threadpoolSize(['cp', '-j', '64', join(dir, 'a'), join(dir, 'b')])).toBe(FEW_THREADS);
    expect(threadpoolSize(['zip', '--root', dir, 'out.zip', dir], dir)).toBe(FEW_THREADS);
    // procfs stands in for a network volume (not a known local-disk file system).
    expect(threadpoolSize(['cp', '/proc/self/fd', dir])).toBe(MANY_THREADS);
    expect(threadpoolSize(['cp', dir, 's3://bucket/x'])).toBe(MANY_THREADS);
    expect(threadpoolSize(['rm', '-r'])).toBe(MANY_THREADS);
  });

  it('follows --volume, with or without =', () => {
    expect(threadpoolSize(['cp', '--volume', 'network', dir, dir])).toBe(MANY_THREADS);
    expect(threadpoolSize(['cp', '--volume=network', dir, dir])).toBe(MANY_THREADS);
    expect(threadpoolSize(['cp', '--volume=local', '/proc/self/fd', dir])).toBe(FEW_THREADS);
    // An option value is not taken for a path: "/proc" here is the memory budget's (bad) value.
    expect(threadpoolSize(['rm', '--max-memory', '/proc', '-r', dir])).toBe(FEW_THREADS);
  });

  it("leaves libuv's default to commands without file IO, and many to hosts of IO built-ins", () => {
    expect(threadpoolSize([])).toBeUndefined();
    expect(threadpoolSize(['--version'])).toBeUndefined();
    expect(threadpoolSize(['validate', 'p.json'])).toBeUndefined();
    for (const c of ['run', 'serve', 'resume', 'fetch']) expect(threadpoolSize([c, 'x'])).toBe(MANY_THREADS);
  });

  it('is what bin/sluice.js sets before the CLI starts (unless UV_THREADPOOL_SIZE is set)', async () => {
    const threads = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = await exec(process.execPath, ['bin/sluice.js', ...args], {
        cwd: REPO,
        env: { ...process.env, UV_THREADPOOL_SIZE: undefined, SLUICE_DEBUG: '1', ...env },
      });
      const m =
        /sluice: running (the build in dist|the bundle in dist|the TypeScript).*?(\d+) threads\)/.exec(
          r.stderr,
        );
      expect(m).not.toBeNull();
      // The sources through tsx (dist/ older than an edit) always get the generous default.
      return { dist: m![1] !== 'the TypeScript', threads: Number(m![2]) };
    };
    const local = await threads(['rm', '-rf', join(dir, 'nothing')]);
    expect(local.threads).toBe(local.dist ? FEW_THREADS : MANY_THREADS);
    expect((await threads(['rm', '-rf', '--volume', 'network', join(dir, 'nothing')])).threads).toBe(
      MANY_THREADS,
    );
    expect((await threads(['rm', '-rf', join(dir, 'nothing')], { UV_THREADPOOL_SIZE: '3' })).threads).toBe(3);
  });
});
