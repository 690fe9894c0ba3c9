import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BufferPool } from '../../../shared/io/buffer-pool.ts';
import { allOnLocalDisk, chooseLocalFs, directFs, threadedFs } from '../../../shared/io/local-fs.ts';
import { poolFor, TaskPool } from '../../../shared/io/task-pool.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('localfs');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chooseLocalFs', () => {
  it('makes direct calls on a local disk, also for a destination that does not exist yet', () => {
    // The test directory is on the machine's disk or tmpfs (ext4, xfs, btrfs, overlay, tmpfs).
    expect(allOnLocalDisk([dir])).toBe(true);
    expect(chooseLocalFs([dir, join(dir, 'not/yet/there')]).mode).toBe('direct');
  });

  it('keeps calls on threads for anything that is not a known local-disk file system', () => {
    // procfs stands in for a network volume: not in the list of local disks.
    expect(allOnLocalDisk(['/proc/self'])).toBe(false);
    expect(chooseLocalFs([dir, '/proc/self']).mode).toBe('threaded');
    expect(chooseLocalFs([]).mode).toBe('threaded');
    // tmpfs is a local disk for this purpose.
    if (process.platform === 'linux') expect(allOnLocalDisk(['/dev/shm'])).toBe(true);
  });

  it('does what --volume forces', () => {
    expect(chooseLocalFs(['/proc/self'], 'local')).toBe(directFs);
    expect(chooseLocalFs([dir], 'network')).toBe(threadedFs);
  });

  it('gives the same results and the same errors both ways', async () => {
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd/f'), 'hello');
    for (const fs of [directFs, threadedFs]) {
      expect((await fs.lstat(join(dir, 'd/f'))).size).toBe(5);
      expect((await fs.readdir(join(dir, 'd'))).map((e) => e.name)).toEqual(['f']);
      const fh = await fs.open(join(dir, 'd/f'), 'r');
      const buf = Buffer.alloc(5);
      expect((await fh.read(buf, 0, 5, 0)).bytesRead).toBe(5);
      await fh.close();
      expect(buf.toString()).toBe('hello');
      await expect(fs.lstat(join(dir, 'missing'))).rejects.toMatchObject({ code: 'ENOENT' });
      await expect(fs.rmdir(join(dir, 'd'))).rejects.toMatchObject({ code: 'ENOTEMPTY' });
    }
  });
});

/** How often a 5 ms timer fired while `pool` ran `tasks` tasks of 1 ms of synchronous work. */
async function timersDuring(pool: TaskPool, tasks: number): Promise<number> {
  let timers = 0;
  const timer = setInterval(() => timers++, 5);
  for (let i = 0; i < tasks; i++)
    pool.push('', async () => {
      const end = performance.now() + 1;
      while (performance.now() < end);
    });
  await pool.idle();
  clearInterval(timer);
  return timers;
}

describe('poolFor', () => {
  it('runs direct calls a few at a time and yields to the event loop during long runs', async () => {
    const pool = poolFor(directFs, 128);
    expect(pool.concurrency).toBeLessThan(128);
    // 300 ms of synchronous work: without yielding no timer could fire.
    expect(await timersDuring(pool, 300)).toBeGreaterThan(3);
  });

  it('a pool without yielding starves timers (what the yielding is for)', async () => {
    expect(await timersDuring(new TaskPool(4), 100)).toBe(0);
  });
});

describe('BufferPool', () => {
  it('hands out exact-size views and reuses the memory given back', () => {
    const pool = new BufferPool(1 << 20);
    const a = pool.take(100_000);
    expect(a.length).toBe(100_000);
    pool.give(a);
    const b = pool.take(90_000);
    expect(b.length).toBe(90_000);
    expect(b.buffer).toBe(a.buffer);
  });

  it('neither pools buffers over its size nor buffers it did not hand out', () => {
    const pool = new BufferPool(1 << 16);
    const big = pool.take(1 << 20);
    pool.give(big);
    expect(pool.take(1 << 20).buffer).not.toBe(big.buffer);
    const foreign = Buffer.alloc(1000);
    pool.give(foreign);
    expect(pool.take(1000).buffer).not.toBe(foreign.buffer);
  });
});
