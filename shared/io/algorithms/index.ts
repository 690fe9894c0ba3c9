// The IO algorithms Sluice ships as built-in algorithms: cp, zip, rm (bulk-io.ts) and fetch.
// Each gets its object stores from the BuiltinContext, never from an adapter of its own.
import type { BuiltinAlgorithm } from '../../ports/builtin-algorithm.ts';
import { cpAlgorithm, rmAlgorithm, zipAlgorithm } from './bulk-io.ts';
import { fetchAlgorithm } from './fetch.ts';

export const ioAlgorithms: readonly BuiltinAlgorithm[] = [
  cpAlgorithm,
  zipAlgorithm,
  rmAlgorithm,
  fetchAlgorithm,
];
