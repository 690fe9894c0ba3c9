import { describe, expect, it } from 'vitest';
import { LineSplitter, LogTail } from '../../../shared/runner/log-tail.ts';

describe('LogTail', () => {
  it('keeps the last lines and says how many were dropped', () => {
    const tail = new LogTail(3, 1000);
    for (let i = 1; i <= 10; i++) tail.push(`line ${i}`);
    expect(tail.toArray()).toEqual(['[sluice: 7 earlier log lines dropped]', 'line 8', 'line 9', 'line 10']);
    expect(tail.tail(2)).toEqual(['line 9', 'line 10']);
  });

  it('bounds the bytes kept as well as the lines', () => {
    const tail = new LogTail(100, 10);
    for (const line of ['aaaa', 'bbbb', 'cccc', 'dddd']) tail.push(line);
    expect(tail.toArray()).toEqual(['[sluice: 2 earlier log lines dropped]', 'cccc', 'dddd']);
  });
});

describe('LineSplitter', () => {
  const MARK = '\u001eEND';

  function split(chunks: string[], maxLineLength?: number) {
    const events: string[] = [];
    const splitter = new LineSplitter(
      (l) => events.push(l),
      MARK,
      () => events.push('<marker>'),
      maxLineLength,
    );
    for (const c of chunks) splitter.feed(c);
    splitter.flush();
    return events;
  }

  it('splits lines across chunk boundaries and strips \\r', () => {
    expect(split(['ab', 'c\nde', 'f\r\n', 'g'])).toEqual(['abc', 'def', 'g']);
  });

  it('spots a marker even when it arrives in pieces or after an unterminated line', () => {
    expect(split(['x\n', 'no newline', '\u001eE', 'ND\n', 'next\n'])).toEqual([
      'x',
      'no newline',
      '<marker>',
      'next',
    ]);
  });

  it('cuts an endless line into pieces but never cuts a marker', () => {
    const events = split(['a'.repeat(25), 'b'.repeat(25), `${MARK}\n`], 20);
    expect(events.at(-1)).toBe('<marker>');
    expect(events.slice(0, -1).join('')).toBe('a'.repeat(25) + 'b'.repeat(25));
    expect(events.length).toBeGreaterThan(2);
  });

  it('joins a long line from many chunks', () => {
    const chunks = Array.from({ length: 1000 }, () => 'x'.repeat(100));
    expect(split([...chunks, '\n'])).toEqual(['x'.repeat(100_000)]);
  });
});
