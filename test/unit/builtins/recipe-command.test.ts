// GNU make's fast path on the worker: only lines with nothing for the shell to do skip /bin/sh.
import { describe, expect, it } from 'vitest';
import { directCommand } from '../../../shared/builtins/recipe-command.ts';

describe('directCommand', () => {
  it('runs a plain command line without the shell', () => {
    expect(directCommand(['/bin/sh', '-c', 'touch out/t1'])).toEqual(['touch', 'out/t1']);
    expect(directCommand(['/bin/sh', '-ec', '  cc -O2 -o prog main.c\t-lm '])).toEqual([
      'cc',
      '-O2',
      '-o',
      'prog',
      'main.c',
      '-lm',
    ]);
  });

  it('leaves to the shell anything it would interpret', () => {
    for (const line of [
      'echo hi > out',
      'cat $^',
      'a && b',
      'ls *.c',
      "echo 'x y'",
      'cd sub',
      'FOO=1 make',
      'touch ~/x',
      'printf "%s" x',
      'echo hi',
      'one\ntwo',
      'x`y`',
      'test -f x',
      '',
    ])
      expect(directCommand(['/bin/sh', '-c', line]), line).toBeUndefined();
  });

  it('only for /bin/sh with make default flags', () => {
    expect(directCommand(['/bin/bash', '-c', 'touch x'])).toBeUndefined();
    expect(directCommand(['/bin/sh', '-xc', 'touch x'])).toBeUndefined();
    expect(directCommand(['/bin/sh', '-c', 'touch x', 'extra'])).toBeUndefined();
  });
});
