// How many more tasks an AWS worker takes: tasks of io-bound built-ins (make recipes) share a slot
// as the worker pool runs them, so a worker of 4 slots runs 32 recipes at once, not 4.
import { describe, expect, it } from 'vitest';
import { workerRoom } from '../../../../shared/runtime/aws/worker.ts';

const d = (runningCount: number, ioBoundRunningCount = 0, lentCount = 0) => ({
  runningCount,
  ioBoundRunningCount,
  lentCount,
});

describe('workerRoom', () => {
  it('counts whole slots while no io-bound task runs', () => {
    expect(workerRoom(4, 8, d(0))).toBe(4);
    expect(workerRoom(4, 8, d(3))).toBe(1);
    expect(workerRoom(4, 8, d(5))).toBe(0);
    expect(workerRoom(4, 8, d(4, 0, 1))).toBe(1); // a caller waiting on its children lends its slot
  });

  it('counts in io-bound tasks while some run: perSlot of them to a slot', () => {
    expect(workerRoom(4, 8, d(1, 1))).toBe(31);
    expect(workerRoom(4, 8, d(16, 16))).toBe(16);
    expect(workerRoom(4, 8, d(32, 32))).toBe(0);
    // two whole-slot tasks and 9 recipes (two slots): the second slot's 7 recipes are left
    expect(workerRoom(4, 8, d(11, 9))).toBe(7);
    // three whole-slot tasks and 9 recipes: more than the 4 slots, nothing is left
    expect(workerRoom(4, 8, d(12, 9))).toBe(0);
  });
});
