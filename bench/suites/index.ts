// Every benchmark suite, in the order `npm run bench` runs them.
import type { BenchSuite } from '../types.ts';
import { ioSuite } from './io.ts';

export const suites: BenchSuite[] = [ioSuite];
