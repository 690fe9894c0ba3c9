// The built-in algorithms every Sluice engine registers: `echo`, `make-recipe` and the IO
// algorithms (cp, zip, rm, fetch). The worker pool's built-in host imports this module (export `coreBuiltins`) in its
// own process, and the engine reads the same list for names and `ioBound`; see shared/runner.
import { ioAlgorithms } from '../io/algorithms/index.ts';
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import { echo } from './echo.ts';
import { makeRecipe } from './make-recipe.ts';

export const coreBuiltins: readonly BuiltinAlgorithm[] = [echo, makeRecipe, ...ioAlgorithms];
