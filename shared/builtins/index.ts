// The built-in algorithms every Sluice engine registers: `echo` and the bulk IO algorithms (cp, zip, rm, fetch). The
// worker pool's builtin host imports this module (export `coreBuiltins`) in its own process, and
// the engine reads the same list for names and `ioBound`; see shared/runner.
import { ioBuiltins } from '../io/builtins.ts';
import { fetchBuiltin } from '../io/fetch/builtin.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { echo } from './echo.ts';

export const coreBuiltins: readonly BuiltinAlgorithm[] = [echo, ...ioBuiltins, fetchBuiltin];
