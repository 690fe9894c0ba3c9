// The bulk IO operations as built-in algorithms (`cp`, `zip`, `rm`). A node's input is an array
// whose first element is an object, e.g. {"src": "/data/in", "dst": "s3://bucket/out"}.
// Unlike the CLI, `cp` treats `dst` as the copy itself (no "copy into an existing directory"
// guess) and skips files already copied: a task retried after a crash lands in the same place
// and only finishes the job. Any failed item fails the task (IoFailuresError carries the summary).
import type { BuiltinAlgorithm, BuiltinContext } from '../../ports/builtin-algorithm.ts';
import { IoFailuresError } from '../errors.ts';
import type { VolumeKind } from '../local-fs.ts';
import type { IoOptions, IoSummary } from '../types.ts';
import { readParams } from './params.ts';

// The implementations load when a task first needs them: an engine that never copies (`sluice
// make`, a pipeline of user code) does not load the IO layer and the S3 client at start-up.
const stores = () => import('../object-stores.ts');
const cp = () => import('../cp.ts');
const zip = () => import('../zip.ts');
const rm = () => import('../rm.ts');

async function ioOptions(
  p: Record<string, unknown>,
  locations: string[],
  ctx: BuiltinContext,
): Promise<IoOptions> {
  return {
    ...(p.jobs ? { jobs: p.jobs as number } : {}),
    ...(p.maxMemory ? { maxMemory: p.maxMemory as number } : {}),
    ...(p.volume ? { volume: p.volume as VolumeKind } : {}),
    ...(await (await stores()).storeForLocations(locations, ctx.objectStores)),
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

export const cpAlgorithm: BuiltinAlgorithm = {
  name: 'cp',
  description:
    'Copy a file or tree (local or s3://) to dst; dst is the copy itself; re-runs skip what is done.',
  ioBound: true,
  async run(input, ctx) {
    const p = readParams('cp', input, { src: 'strings', dst: 'string', update: 'boolean' }, ['src', 'dst']);
    const src = p.src as string[];
    const dst = p.dst as string;
    const opts = await ioOptions(p, [...src, dst], ctx);
    // Several sources go into dst as a directory (like the CLI); one source becomes dst.
    return finish(
      await (await cp()).copyTree(src, dst, {
        ...opts,
        update: (p.update as boolean) ?? true,
        noTargetDirectory: src.length === 1,
        createParents: true,
      }),
      ctx,
    );
  },
};

export const zipAlgorithm: BuiltinAlgorithm = {
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
    const opts = await ioOptions(p, [p.dst as string], ctx);
    return finish(
      await (await zip()).zipTree(p.dst as string, p.src as string[], {
        ...opts,
        deflate: (p.deflate as boolean) ?? false,
        // Deterministic by default: a retried task writes the same bytes.
        sort: (p.sort as boolean) ?? true,
        ...(p.root ? { root: p.root as string } : {}),
      }),
      ctx,
    );
  },
};

export const rmAlgorithm: BuiltinAlgorithm = {
  name: 'rm',
  description: 'Remove files, trees or s3:// prefixes; a retried task finds nothing left and succeeds.',
  ioBound: true,
  async run(input, ctx) {
    const p = readParams('rm', input, { src: 'strings', force: 'boolean' }, ['src']);
    const opts = await ioOptions(p, p.src as string[], ctx);
    // force defaults to true: after a crash, what is already gone is not an error.
    return finish(
      await (await rm()).removeTree(p.src as string[], {
        ...opts,
        recursive: true,
        force: (p.force as boolean) ?? true,
      }),
      ctx,
    );
  },
};
