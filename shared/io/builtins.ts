// The bulk IO operations as built-in pipeline algorithms (`cp`, `zip`, `rm`). A node's input is an
// array whose first element is an object, e.g. {"src": "/data/in", "dst": "s3://bucket/out"}.
// Unlike the CLI, `cp` treats `dst` as the copy itself (no "copy into an existing directory"
// guess) and skips files already copied: a task retried after a crash lands in the same place
// and only finishes the job. Any failed item fails the task (IoFailuresError carries the summary).

import { SluiceError, ValidationError } from '../errors.ts';
import type { BuiltinAlgorithm, BuiltinContext } from '../ports/builtin-algorithm.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import { copyTree } from './cp.ts';
import type { VolumeKind } from './local-fs.ts';
import { loadObjectStore } from './object-store-loader.ts';
import { removeTree } from './rm.ts';
import { isS3Url } from './s3-url.ts';
import { parseSize } from './size.ts';
import type { IoOptions, IoSummary } from './types.ts';
import { zipTree } from './zip.ts';

/** Some items failed; the rest was done. `summary` lists every failure. */
export class IoFailuresError extends SluiceError {
  override name = 'IoFailuresError';
  constructor(readonly summary: IoSummary) {
    const first = summary.failures
      .slice(0, 3)
      .map((f) => `${f.path}: ${f.message}`)
      .join('; ');
    const more = summary.failures.length > 3 ? ` (+${summary.failures.length - 3} more)` : '';
    super(
      `${summary.operation}: ${summary.failures.length} item(s) failed: ${first}${more}`,
      'IO_FAILURES',
      500,
      {
        retryable: true,
      },
    );
  }

  override toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

type Spec = Record<string, 'string' | 'strings' | 'boolean' | 'size' | 'integer' | 'volume'>;

const COMMON: Spec = { jobs: 'integer', maxMemory: 'size', volume: 'volume' };
const VOLUMES: readonly VolumeKind[] = ['auto', 'local', 'network'];

/** Validates input[0] against `spec` (unknown keys are errors, so typos are caught). */
function readParams(
  algorithm: string,
  input: unknown[],
  spec: Spec,
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

function describe(type: Spec[string]): string {
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
  return (
    {
      cp: '{"src": "/data/in", "dst": "s3://bucket/out"}',
      zip: '{"src": "/data/run", "dst": "/data/run.zip"}',
      rm: '{"src": "/scratch/run42"}',
    }[algorithm] ?? '{}'
  );
}

export interface IoBuiltinDeps {
  /** Builds the object store for s3:// locations (default: the AWS SDK adapter, from ctx.env). */
  openStore(env: NodeJS.ProcessEnv): Promise<ObjectStore>;
}

async function ioOptions(
  p: Record<string, unknown>,
  urls: string[],
  ctx: BuiltinContext,
  deps: IoBuiltinDeps,
): Promise<IoOptions> {
  return {
    ...(p.jobs ? { jobs: p.jobs as number } : {}),
    ...(p.maxMemory ? { maxMemory: p.maxMemory as number } : {}),
    ...(p.volume ? { volume: p.volume as VolumeKind } : {}),
    ...(urls.some(isS3Url) ? { store: await deps.openStore(ctx.env) } : {}),
    signal: ctx.signal,
  };
}

function finish(summary: IoSummary, ctx: BuiltinContext): IoSummary {
  ctx.log(
    `${summary.operation}: ${summary.files} files, ${summary.bytes} bytes, ${summary.skipped} skipped, ${summary.failures.length} failed in ${summary.seconds} s`,
  );
  for (const f of summary.failures) ctx.log(`${summary.operation}: FAILED ${f.path}: ${f.message}`);
  if (summary.failures.length > 0) throw new IoFailuresError(summary);
  return summary;
}

export function createIoBuiltins(deps: IoBuiltinDeps = { openStore: loadObjectStore }): BuiltinAlgorithm[] {
  return [
    {
      name: 'cp',
      description:
        'Copy a file or tree (local or s3://) to dst; dst is the copy itself; re-runs skip what is done.',
      ioBound: true,
      async run(input, ctx) {
        const p = readParams('cp', input, { src: 'strings', dst: 'string', update: 'boolean' }, [
          'src',
          'dst',
        ]);
        const src = p.src as string[];
        const dst = p.dst as string;
        const opts = await ioOptions(p, [...src, dst], ctx, deps);
        // Several sources go into dst as a directory (like the CLI); one source becomes dst.
        return finish(
          await copyTree(src, dst, {
            ...opts,
            update: (p.update as boolean) ?? true,
            noTargetDirectory: src.length === 1,
            createParents: true,
          }),
          ctx,
        );
      },
    },
    {
      name: 'zip',
      description: 'Zip files and trees into dst (a local path or s3://); stored unless deflate is true.',
      ioBound: true,
      async run(input, ctx) {
        const p = readParams(
          'zip',
          input,
          { src: 'strings', dst: 'string', deflate: 'boolean', sort: 'boolean', root: 'string' },
          ['src', 'dst'],
        );
        const opts = await ioOptions(p, [p.dst as string], ctx, deps);
        return finish(
          await zipTree(p.dst as string, p.src as string[], {
            ...opts,
            deflate: (p.deflate as boolean) ?? false,
            // Deterministic by default: a retried task writes the same bytes.
            sort: (p.sort as boolean) ?? true,
            ...(p.root ? { root: p.root as string } : {}),
          }),
          ctx,
        );
      },
    },
    {
      name: 'rm',
      description: 'Remove files, trees or s3:// prefixes; a retried task finds nothing left and succeeds.',
      ioBound: true,
      async run(input, ctx) {
        const p = readParams('rm', input, { src: 'strings', force: 'boolean' }, ['src']);
        const opts = await ioOptions(p, p.src as string[], ctx, deps);
        // force defaults to true: after a crash, what is already gone is not an error.
        return finish(
          await removeTree(p.src as string[], {
            ...opts,
            recursive: true,
            force: (p.force as boolean) ?? true,
          }),
          ctx,
        );
      },
    },
  ];
}

export const ioBuiltins: BuiltinAlgorithm[] = createIoBuiltins();
