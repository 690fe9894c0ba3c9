// Validates the parameters object of the bulk IO algorithms (input[0] of cp, zip, rm): unknown
// keys are errors, so a typo fails the task at once instead of being ignored.
import { ValidationError } from '../../errors.ts';
import type { VolumeKind } from '../local-fs.ts';
import { parseSize } from '../size.ts';

export type ParamType = 'string' | 'strings' | 'boolean' | 'size' | 'integer' | 'volume';
export type ParamSpec = Record<string, ParamType>;

/** Accepted by every bulk IO algorithm: the IoOptions a node may tune. */
const COMMON: ParamSpec = { jobs: 'integer', maxMemory: 'size', volume: 'volume' };
const VOLUMES: readonly VolumeKind[] = ['auto', 'local', 'network'];

const EXAMPLES: Record<string, string> = {
  cp: '{"src": "/data/in", "dst": "s3://bucket/out"}',
  zip: '{"src": "/data/run", "dst": "/data/run.zip"}',
  rm: '{"src": "/scratch/run42"}',
};

/** Validates input[0] against `spec` plus the common keys; `strings` become arrays, sizes bytes. */
export function readParams(
  algorithm: string,
  input: unknown[],
  spec: ParamSpec,
  required: string[],
): Record<string, unknown> {
  const p = input[0];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) {
    throw new ValidationError(
      `${algorithm}: input[0] must be an object like ${example(algorithm)} (got ${p === null ? 'null' : Array.isArray(p) ? 'an array' : typeof p})`,
      'input[0]',
    );
  }
  const all = { ...spec, ...COMMON };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) {
    const type = all[k];
    if (!type)
      throw new ValidationError(
        `${algorithm}: input[0].${k} is not a known field (known: ${Object.keys(all).join(', ')})`,
        `input[0].${k}`,
      );
    const bad = () =>
      new ValidationError(`${algorithm}: input[0].${k} must be ${describe(type)}`, `input[0].${k}`);
    if (type === 'string' && (typeof v !== 'string' || v === '')) throw bad();
    if (type === 'strings') {
      const list = typeof v === 'string' ? [v] : v;
      if (!Array.isArray(list) || list.length === 0 || list.some((x) => typeof x !== 'string' || x === ''))
        throw bad();
      out[k] = list;
      continue;
    }
    if (type === 'boolean' && typeof v !== 'boolean') throw bad();
    if (type === 'integer' && (!Number.isInteger(v) || (v as number) < 1)) throw bad();
    if (type === 'volume' && !VOLUMES.includes(v as VolumeKind)) throw bad();
    if (type === 'size') {
      if (typeof v === 'number' && v > 0) out[k] = v;
      else if (typeof v === 'string') out[k] = parseSize(v, `input[0].${k}`);
      else throw bad();
      continue;
    }
    out[k] = v;
  }
  for (const r of required) {
    if (out[r] === undefined)
      throw new ValidationError(
        `${algorithm}: input[0].${r} is required, e.g. ${example(algorithm)}`,
        `input[0].${r}`,
      );
  }
  return out;
}

function describe(type: ParamType): string {
  return {
    string: 'a non-empty string',
    strings: 'a path or a non-empty array of paths',
    boolean: 'true or false',
    size: 'a size such as 256M or a number of bytes',
    integer: 'a positive integer',
    volume: `one of ${VOLUMES.join(', ')}`,
  }[type];
}

function example(algorithm: string): string {
  return EXAMPLES[algorithm] ?? '{}';
}
