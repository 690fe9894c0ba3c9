import { describe, expect, it } from 'vitest';
import { MemoryBudget } from '../../../shared/io/memory-budget.ts';
import { TaskPool } from '../../../shared/io/task-pool.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('TaskPool', () => {
  it('never runs more than its concurrency and runs every task', async () => {
    const pool = new TaskPool(4);
    let running = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 50; i++) {
      pool.push(`d${i % 3}`, async () => {
        running++;
        peak = Math.max(peak, running);
        await tick();
        running--;
        done++;
      });
    }
    await pool.idle();
    expect(done).toBe(50);
    expect(peak).toBe(4);
  });

  it('starts tasks round-robin across lanes (directories), not lane by lane', async () => {
    const pool = new TaskPool(1);
    const order: string[] = [];
    let unblock!: () => void;
    pool.push('blocker', () => new Promise<void>((r) => (unblock = r)));
    for (const lane of ['a', 'b', 'c'])
      for (let i = 0; i < 3; i++) pool.push(lane, async () => void order.push(`${lane}${i}`));
    unblock();
    await pool.idle();
    expect(order).toEqual(['a0', 'b0', 'c0', 'a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  });

  it('runs listings before queued file tasks', async () => {
    const pool = new TaskPool(1);
    const order: string[] = [];
    pool.push('x', async () => void order.push('file1'));
    pool.push('x', async () => void order.push('file2'));
    pool.pushListing(async () => void order.push('listing'));
    await pool.idle();
    // file1 started at push time (a free slot); the listing jumps ahead of file2.
    expect(order).toEqual(['file1', 'listing', 'file2']);
  });

  it('makes producers wait (room) while too many operations are queued', async () => {
    const pool = new TaskPool(1, 2);
    let release!: () => void;
    pool.push('', () => new Promise<void>((r) => (release = r)));
    pool.push('', async () => {});
    pool.push('', async () => {});
    let roomy = false;
    const waiting = pool.room().then(() => {
      roomy = true;
    });
    await tick();
    expect(roomy).toBe(false);
    release();
    await waiting;
    expect(roomy).toBe(true);
    await pool.idle();
  });

  it('reports an unexpected task error from idle()', async () => {
    const pool = new TaskPool(2);
    pool.push('', async () => {
      throw new Error('boom');
    });
    await expect(pool.idle()).rejects.toThrow('boom');
  });
});

describe('MemoryBudget', () => {
  it('makes acquirers wait until memory is released (backpressure)', async () => {
    const b = new MemoryBudget(100);
    await b.acquire(60);
    let got = false;
    const p = b.acquire(60).then(() => {
      got = true;
    });
    await tick();
    expect(got).toBe(false);
    b.release(60);
    await p;
    expect(got).toBe(true);
    expect(b.peak).toBe(60);
  });

  it('lets a request larger than the whole budget through when nothing else is held', async () => {
    const b = new MemoryBudget(10);
    await b.acquire(50);
    expect(b.inUse).toBe(50);
  });

  it('lets the ticket an ordered consumer waits for through, over budget', async () => {
    const b = new MemoryBudget(100);
    await b.acquire(100, 5); // a later entry holds everything
    let head = false;
    const p = b.acquire(30, 1).then(() => {
      head = true;
    });
    await tick();
    expect(head).toBe(false);
    b.allowOverdraft(1);
    await p;
    expect(head).toBe(true);
    expect(b.inUse).toBe(130);
  });
});
