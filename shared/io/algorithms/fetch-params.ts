// Validates one item of the `fetch` algorithm's input ({"url": ..., "dest": ...}) into
// FetchOptions: unknown keys are errors, sizes may be written "8M", paths resolve against cwd.
import path from 'node:path';
import { ValidationError } from '../../errors.ts';
import { parseChecksum } from '../fetch/checksum.ts';
import { COMPRESSIONS, type Compression } from '../fetch/decompress.ts';
import type { FetchOptions } from '../fetch/types.ts';
import { parseSize } from '../size.ts';

const KEYS = new Set([
  'url',
  'dest',
  'output',
  'compression',
  'stripComponents',
  'overwrite',
  'preservePermissions',
  'workers',
  'chunkSize',
  'maxMemory',
  'writeWorkers',
  'retries',
  'speedLimit',
  'speedTime',
  'timeout',
  'checksum',
]);

function fail(i: number, field: string, rule: string): never {
  throw new ValidationError(`fetch input[${i}].${field} ${rule}`, `input[${i}].${field}`);
}

export function fetchItemOptions(
  item: unknown,
  i: number,
  cwd: string,
): Omit<FetchOptions, 'signal' | 'log'> {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new ValidationError(
      `fetch input[${i}] must be an object like {"url": ..., "dest": ...}`,
      `input[${i}]`,
    );
  const o = item as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!KEYS.has(k)) fail(i, k, `is not a known option (known: ${[...KEYS].join(', ')})`);
  if (typeof o.url !== 'string' || !o.url) fail(i, 'url', 'is required and must be a string');
  if ((o.dest === undefined) === (o.output === undefined))
    fail(i, 'dest', 'or output is required (exactly one)');
  for (const k of ['dest', 'output'] as const)
    if (o[k] !== undefined && typeof o[k] !== 'string') fail(i, k, 'must be a path');
  const int = (k: string, min: number): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) fail(i, k, `must be an integer >= ${min}`);
    return v;
  };
  const size = (k: string): number | undefined => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v === 'number' && v > 0) return v;
    if (typeof v === 'string') return parseSize(v, `input[${i}].${k}`);
    fail(i, k, 'must be a size like "8M" or a number of bytes');
  };
  const bool = (k: string): boolean | undefined => {
    const v = o[k];
    if (v !== undefined && typeof v !== 'boolean') fail(i, k, 'must be true or false');
    return v as boolean | undefined;
  };
  if (
    o.compression !== undefined &&
    o.compression !== 'auto' &&
    !COMPRESSIONS.includes(o.compression as Compression)
  )
    fail(i, 'compression', `must be one of auto, ${COMPRESSIONS.join(', ')}`);
  return {
    url: o.url,
    output:
      o.dest !== undefined
        ? { kind: 'extract', dest: path.resolve(cwd, o.dest as string) }
        : { kind: 'file', path: path.resolve(cwd, o.output as string) },
    compression: (o.compression as Compression | 'auto' | undefined) ?? 'auto',
    stripComponents: int('stripComponents', 0),
    overwrite: bool('overwrite'),
    preservePermissions: bool('preservePermissions'),
    workers: int('workers', 1),
    writeWorkers: int('writeWorkers', 1),
    retries: int('retries', 0),
    chunkSize: size('chunkSize'),
    maxMemory: size('maxMemory'),
    speedLimit: o.speedLimit === 0 ? 0 : size('speedLimit'),
    speedTime: int('speedTime', 1),
    timeoutSeconds: int('timeout', 0),
    ...(o.checksum !== undefined
      ? {
          checksum:
            typeof o.checksum === 'string'
              ? parseChecksum(o.checksum, `input[${i}].checksum`)
              : fail(i, 'checksum', 'must be a string like "sha256=HEX"'),
        }
      : {}),
  };
}
