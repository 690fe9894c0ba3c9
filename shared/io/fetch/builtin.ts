// The built-in `fetch` algorithm: a pipeline node that downloads (and usually extracts) archives,
// e.g. to preload a dataset onto the shared volume. Input: [{ "url": ..., "dest": ... }, ...];
// result: the FetchSummary (an array of them when several items are given).
import path from 'node:path';
import { ValidationError } from '../../errors.ts';
import type { BuiltinAlgorithm, BuiltinContext } from '../../ports/builtin-algorithm.ts';
import type { ObjectStore } from '../../ports/object-store.ts';
import { isS3Url } from '../s3-url.ts';
import { parseSize } from '../size.ts';
import { COMPRESSIONS, type Compression } from './decompress.ts';
import { fetchArchive } from './fetch.ts';
import type { FetchOptions, FetchSummary } from './types.ts';

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
]);

function fail(i: number, field: string, rule: string): never {
  throw new ValidationError(`fetch input[${i}].${field} ${rule}`, `input[${i}].${field}`);
}

function toOptions(item: unknown, i: number, cwd: string): Omit<FetchOptions, 'signal' | 'log'> {
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
  };
}

export interface FetchBuiltinDeps {
  /** For s3:// URLs; default: the S3 adapter, loaded only when an s3:// URL is fetched. */
  objectStore?: () => ObjectStore;
  cwd?: () => string;
}

export function createFetchBuiltin(deps: FetchBuiltinDeps = {}): BuiltinAlgorithm {
  return {
    name: 'fetch',
    description:
      'download files or archives (http(s)://, s3://) with parallel ranges, extracting tar/tar.gz/tar.lz4',
    ioBound: true,
    async run(input: unknown[], ctx: BuiltinContext): Promise<FetchSummary | FetchSummary[]> {
      if (!Array.isArray(input) || input.length === 0)
        throw new ValidationError(
          'fetch input must be a non-empty array of {"url": ..., "dest": ...}',
          'input',
        );
      const cwd = deps.cwd?.() ?? process.cwd();
      const items = input.map((item, i) => toOptions(item, i, cwd)); // validate everything first
      let objectStore = deps.objectStore;
      if (!objectStore && items.some((it) => isS3Url(it.url))) {
        // Loaded lazily so shared/io itself never pulls in the AWS SDK.
        const { S3ObjectStore } = await import('../../adapters/aws/s3-object-store.ts');
        const { createS3Client } = await import('../../adapters/aws/s3-client.ts');
        const store = new S3ObjectStore(createS3Client(ctx.env));
        objectStore = () => store;
      }
      const results: FetchSummary[] = [];
      for (const it of items) {
        ctx.log(
          `fetch ${it.url} -> ${it.output.kind === 'extract' ? it.output.dest : (it.output as { path: string }).path}`,
        );
        const summary = await fetchArchive(
          { ...it, signal: ctx.signal, log: (l) => ctx.log(`warning: ${l}`) },
          { objectStore, cwd },
        );
        ctx.log(`fetched ${summary.bytes} bytes in ${summary.seconds} s: ${summary.files} files`);
        results.push(summary);
      }
      return results.length === 1 ? results[0]! : results;
    },
  };
}

export const fetchBuiltin: BuiltinAlgorithm = createFetchBuiltin();
