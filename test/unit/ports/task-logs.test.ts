import { describe, expect, it } from 'vitest';
import { capTaskLogs, parseTaskLogs, taskLogs } from '../../../shared/ports/task-logs.ts';

describe('task logs', () => {
  it('read back records written before stdout and stderr were kept apart as stdout', () => {
    expect(parseTaskLogs(['a', 'b'])).toEqual(taskLogs(['a', 'b']));
    expect(parseTaskLogs('{"stdout":["o"],"stderr":["e"],"truncated":true}')).toEqual(
      taskLogs(['o'], ['e'], true),
    );
    expect(parseTaskLogs('not json')).toBeUndefined();
    expect(parseTaskLogs(7)).toBeUndefined();
  });

  it('cap keeps the tail of each stream, lends a quiet stream’s share to the other, and says so', () => {
    const small = taskLogs(['x'], ['y']);
    expect(capTaskLogs(small, 100)).toBe(small);
    const out = Array.from({ length: 100 }, (_, i) => `out ${i}`);
    const capped = capTaskLogs(taskLogs(out, ['one error']), 100);
    expect(capped.truncated).toBe(true);
    expect(capped.stderr).toEqual(['one error']);
    expect(capped.stdout.at(-1)).toBe('out 99');
    const size = [...capped.stdout, ...capped.stderr].reduce((a, l) => a + l.length + 1, 0);
    expect(size).toBeLessThanOrEqual(100);
    expect(size).toBeGreaterThan(80);
    const huge = capTaskLogs(taskLogs([], ['z'.repeat(1000)]), 50);
    expect(huge.stderr).toEqual(['z'.repeat(49)]);
  });
});
