// The pool side of the code API pipe protocol: calls become session calls once, waits are
// answered in call order, malformed calls and missing sessions answer error values, and the slot
// is lent exactly while a wait is open.
import { describe, expect, it } from 'vitest';
import type { CodeApiCall, CodeApiResult, CodeApiSession } from '../../../shared/ports/code-api.ts';
import { CodeApiRelay, isHostApiMessage } from '../../../shared/runner/code-api-relay.ts';

function session() {
  const calls: [number, CodeApiCall][] = [];
  const lends: boolean[] = [];
  const pending = new Map<number, (r: CodeApiResult) => void>();
  const s: CodeApiSession = {
    call: (index, call) => {
      calls.push([index, call]);
      return new Promise((resolve) => pending.set(index, resolve));
    },
    lend: (waiting) => lends.push(waiting),
  };
  return { s, calls, lends, pending };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('CodeApiRelay', () => {
  it('starts each call once, answers a wait with the results in order, lends while waiting', async () => {
    const { s, calls, lends, pending } = session();
    const replies: unknown[] = [];
    const relay = new CodeApiRelay(s, (line) => replies.push(JSON.parse(line)));
    relay.handle({ t: 'call', task: 1, n: 1, op: 'algorithm', name: 'a', input: [1] });
    relay.handle({ t: 'call', task: 1, n: 1, op: 'algorithm', name: 'a', input: [1] });
    relay.handle({ t: 'call', task: 1, n: 2, op: 'stored', name: 'p', flowInput: { x: 1 } });
    relay.handle({ t: 'wait', task: 1, w: 7, calls: [2, 1] });
    expect(calls).toEqual([
      [1, { op: 'algorithm', name: 'a', input: [1] }],
      [2, { op: 'stored', name: 'p', flowInput: { x: 1 } }],
    ]);
    expect(lends).toEqual([true]);
    pending.get(1)?.({ response: 'one' });
    await tick();
    expect(replies).toEqual([]);
    pending.get(2)?.({ error: 'two failed' });
    await tick();
    expect(replies).toEqual([{ t: 'reply', w: 7, results: [{ error: 'two failed' }, { response: 'one' }] }]);
    expect(lends).toEqual([true, false]);
  });

  it('answers malformed calls, unknown call numbers and a missing session with error values', async () => {
    const replies: { results: CodeApiResult[] }[] = [];
    const relay = new CodeApiRelay(undefined, (line) => replies.push(JSON.parse(line)));
    relay.handle({ t: 'call', task: 1, n: 1, op: 'algorithm', name: 'a', input: 'not a list' });
    relay.handle({ t: 'call', task: 1, n: 2, op: 'bogus' });
    relay.handle({ t: 'call', task: 1, n: 3, op: 'raw', descriptor: { name: 'x', nodes: [] } });
    relay.handle({ t: 'wait', task: 1, w: 1, calls: [1, 2, 3, 9] });
    await tick();
    expect(replies[0]?.results).toEqual([
      { error: 'the input of start_algorithm must be a list' },
      { error: 'unknown code API call "bogus"' },
      { error: 'the code API is not available where this task runs' },
      { error: 'no call number 9' },
    ]);
  });

  it('after the task ends: no reply, and the lent slot is taken back once', async () => {
    const { s, lends, pending } = session();
    const replies: unknown[] = [];
    const relay = new CodeApiRelay(s, (line) => replies.push(line));
    relay.handle({ t: 'call', task: 1, n: 1, op: 'algorithm', name: 'a', input: [] });
    relay.handle({ t: 'wait', task: 1, w: 1, calls: [1] });
    relay.end();
    relay.end();
    pending.get(1)?.({ response: 1 });
    await tick();
    expect(replies).toEqual([]);
    expect(lends).toEqual([true, false]);
  });

  it('tells code API messages from task responses', () => {
    expect(isHostApiMessage({ t: 'call', task: 1 })).toBe(true);
    expect(isHostApiMessage({ id: 1, ok: true, result: { t: 'call', task: 1 } })).toBe(false);
    expect(isHostApiMessage({ t: 'reply', task: 1 })).toBe(false);
  });
});
