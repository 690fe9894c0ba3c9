// Kubernetes memory quantities as HKube reads them (@hkube/units-converter): a number and a unit,
// binary (Ki, Mi, Gi, Ti, Pi, Ei) or decimal (K, M, G, T, P, E). HKube wants a unit and at least 4 Mi.
import { MEMORY_PATTERN } from './constants.ts';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = new RegExp(MEMORY_PATTERN);

/** The quantity in MiB (`1.5Gi` → 1536, `3900Ki` → 3.81), or undefined when it is not one. */
export function memoryInMiB(quantity: string): number | undefined {
  if (!QUANTITY.test(quantity)) return undefined;
  const unit = /[A-Za-z]+$/.exec(quantity)?.[0] ?? '';
  const bytes = Number(quantity.slice(0, quantity.length - unit.length)) * (UNIT_BYTES[unit] ?? Number.NaN);
  return Number.isFinite(bytes) ? bytes / 2 ** 20 : undefined;
}
