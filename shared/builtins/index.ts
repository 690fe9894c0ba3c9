// The built-in algorithms every Sluice engine registers. The worker pool's builtin host imports
// this module (export `coreBuiltins`) in its own process; see shared/adapters/local/workers.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { echo } from './echo.ts';

export const coreBuiltins: readonly BuiltinAlgorithm[] = [echo];
