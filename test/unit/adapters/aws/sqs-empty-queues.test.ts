// Which priority queues a claimer skips: one found empty waits 250 ms (1 s while the claimer has
// other work), but one that gave messages lately is looked at again after 25 ms, so tasks sent to
// it while the worker is busy (a make adding recipes as others end) are not left queued for 1 s.
import { describe, expect, it } from 'vitest';
import { EmptyQueues } from '../../../../shared/adapters/aws/sqs-empty-queues.ts';

describe('EmptyQueues', () => {
  it('skips a queue found empty for 250 ms, and for 1 s when the claimer is busy', () => {
    const q = new EmptyQueues();
    q.found(2, 0);
    q.endRound(0, false);
    expect(q.skip(2, 249)).toBe(true);
    expect(q.skip(2, 250)).toBe(false);
    q.found(1, 1000);
    q.endRound(1000, true);
    expect(q.skip(1, 1999)).toBe(true);
    expect(q.skip(1, 2000)).toBe(false);
  });

  it('looks again after 25 ms at a queue that gave messages in the last 2 s, busy or not', () => {
    const q = new EmptyQueues();
    q.gaveMessages(3, 0);
    q.found(3, 10);
    q.endRound(10, true);
    expect(q.skip(3, 34)).toBe(true);
    expect(q.skip(3, 35)).toBe(false);
    // 2 s after its last message it is an empty queue like the others
    q.found(3, 2000);
    q.endRound(2000, true);
    expect(q.skip(3, 2999)).toBe(true);
  });

  it('forgets the skip of a queue this process sent to', () => {
    const q = new EmptyQueues();
    q.found(4, 0);
    q.notEmpty(4);
    expect(q.skip(4, 1)).toBe(false);
  });
});
