// Every benchmark suite, in the order `npm run bench` runs them.
import type { BenchSuite } from '../types.ts';
import { fetchSuite } from './fetch.ts';

export const suites: BenchSuite[] = [fetchSuite];
