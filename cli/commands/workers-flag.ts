// `--workers N` of the commands that start an engine (run, exec, serve, make): its own module, so
// that `sluice make` does not load what `run` needs to read descriptor files.
import { UsageError } from '../errors.ts';

export function parseWorkers(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new UsageError(`--workers must be an integer from 1 to 1024 (got "${v}")`);
  return n;
}
