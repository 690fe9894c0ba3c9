// Every built-in algorithm by name: echo (tests, examples) and the IO algorithms.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { coreBuiltins } from './index.ts';

export function allBuiltins(): Map<string, BuiltinAlgorithm> {
  return new Map([...coreBuiltins].map((b) => [b.name, b]));
}
