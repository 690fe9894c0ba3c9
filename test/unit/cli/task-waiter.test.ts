// The make client's waiter: many awaited tasks cost a few long polls (at most two in flight, no
// task covered by both), every task is answered once, and a failed poll gives up only the tasks it
// covered.
import { describe, expect, it } from 'vitest';
import { TaskWaiter } from '../../../cli/make/task-waiter.ts';

interface T {
  taskId: string;
  status: string;
}

/** A fake wait route: each call is held until the test finishes some of its tasks. */
function fakeRoute() {
  const calls: { ids: string[]; answer: (done: string[]) => void; fail: (e: Error) => void }[] = [];
  const wait = (ids: string[]) =>
    new Promise<T[]>((resolve, reject) => {
      calls.push({
        ids,
        answer: (done) =>
          resolve(done.filter((d) => ids.includes(d)).map((taskId) => ({ taskId, status: 'succeeded' }))),
        fail: reject,
      });
    });
  return { calls, wait };
}

const tick = () => new Promise((r) => setImmediate(r));

/** A waiter on a fake route that records the tasks answered; no poll of it may fail. */
function waiterNoPollFails(opts: { maxPerRound?: number } = {}) {
  const route = fakeRoute();
  const finished: string[] = [];
  const w = new TaskWaiter<T>({
    wait: route.wait,
    finished: async (t) => {
      finished.push(t.taskId);
    },
    failed: () => {
      throw new Error('no poll fails here');
    },
    ...opts,
  });
  return { route, finished, w };
}

describe('TaskWaiter', () => {
  it('waits on 100 tasks added one by one with at most two polls in flight, each task answered once', async () => {
    const { route, finished, w } = waiterNoPollFails();
    const ids = Array.from({ length: 100 }, (_, i) => `t${i}`);
    for (const id of ids) w.add([id]);
    await tick();
    // Two polls went out (the first with t0, the second with t1); the other 98 wait for the next.
    expect(route.calls.map((c) => c.ids)).toEqual([['t0'], ['t1']]);
    // The first poll answers t0: the next one covers every task still awaited that no poll covers.
    route.calls[0]?.answer(['t0']);
    await tick();
    expect(route.calls).toHaveLength(3);
    expect(route.calls[2]?.ids).toEqual(ids.slice(2));
    // Finishing everything, in a few answers: no task is answered twice, nothing is left.
    route.calls[2]?.answer(ids.slice(1, 60));
    route.calls[1]?.answer(['t1']);
    await tick();
    for (let i = 3; i < route.calls.length; i++) route.calls[i]?.answer(ids);
    await tick();
    for (let i = 3; i < route.calls.length; i++) route.calls[i]?.answer(ids);
    await tick();
    expect([...finished].sort()).toEqual([...ids].sort());
    expect(w.size).toBe(0);
    expect(w.requests).toBeLessThanOrEqual(6);
  });

  it('a failed poll gives up the tasks only it covered; the others are still awaited', async () => {
    const route = fakeRoute();
    const given: string[] = [];
    const finished: string[] = [];
    const w = new TaskWaiter<T>({
      wait: route.wait,
      finished: async (t) => {
        finished.push(t.taskId);
      },
      failed: (taskIds) => given.push(...taskIds),
      maxRounds: 1,
    });
    w.add(['a']);
    w.add(['b']); // one poll at most: b waits for the next
    await tick();
    route.calls[0]?.fail(new Error('connection reset'));
    await tick();
    expect(given).toEqual(['a']);
    expect(route.calls[1]?.ids).toEqual(['b']);
    route.calls[1]?.answer(['b']);
    await tick();
    expect(finished).toEqual(['b']);
    expect(w.size).toBe(0);
  });

  it('covers at most maxPerRound tasks a poll, each task by one poll at a time', async () => {
    const { route, finished, w } = waiterNoPollFails({ maxPerRound: 3 });
    w.add(['a', 'b', 'c', 'd', 'e']);
    await tick();
    // The first poll takes three, the second the two left.
    expect(route.calls.map((c) => c.ids)).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
    route.calls[1]?.answer(['e']);
    await tick();
    // d, covered by no poll now, goes out again; a, b and c stay with the first.
    expect(route.calls[2]?.ids).toEqual(['d']);
    for (const c of route.calls) c.answer(['a', 'b', 'c', 'd']);
    await tick();
    expect([...finished].sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(w.size).toBe(0);
  });
});
