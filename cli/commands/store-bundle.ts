// `sluice pipeline export` and `import`: a set of stored pipelines and the algorithm definitions
// they use, as one file (JSON, or YAML by extension) that another Sluice imports in one step.
import { writeFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ValidationError } from '../../shared/errors.ts';
import { validateAlgorithm } from '../../shared/pipeline/index.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { printJson } from '../output.ts';
import { readDescriptorFile } from './descriptor-file.ts';
import { type Common, common, withClient } from './store-common.ts';

interface Bundle {
  pipelines: { name: string; nodes: { algorithmName?: string }[] }[];
  algorithms: { name: string }[];
}

function bundleOf(file: string, raw: unknown): Bundle {
  const b = raw as Partial<Bundle> | null;
  const ok =
    b !== null &&
    typeof b === 'object' &&
    !Array.isArray(b) &&
    Object.keys(b).every((k) => k === 'pipelines' || k === 'algorithms') &&
    Array.isArray(b.pipelines ?? []) &&
    Array.isArray(b.algorithms ?? []);
  if (!ok)
    throw new CliError(
      `${file}: an export file holds {pipelines: [...], algorithms: [...]} and nothing else`,
    );
  return { pipelines: b.pipelines ?? [], algorithms: b.algorithms ?? [] };
}

export function registerExportImport(p: Command, ctx: CliContext): void {
  common(
    p
      .command('export')
      .description('write stored pipelines (all, or the NAMEs) and the algorithms they use to one file')
      .argument('[names...]', 'pipelines to export (default: all)')
      .requiredOption('-o, --output <file>', 'file to write (.yml/.yaml: YAML, else JSON)'),
  ).action((names: string[], o: Common & { output: string }) =>
    withClient(ctx, o, async (c) => {
      const all = await c.call<Bundle['pipelines']>('GET', '/store/pipelines');
      const missing = names.filter((n) => !all.some((x) => x.name === n));
      if (missing.length)
        throw new CliError(`pipeline ${missing.map((n) => `"${n}"`).join(', ')} is not stored`);
      const pipelines = names.length ? all.filter((x) => names.includes(x.name)) : all;
      const used = new Set(pipelines.flatMap((x) => x.nodes.map((n) => n.algorithmName ?? '')));
      const algorithms = (await c.call<Bundle['algorithms']>('GET', '/store/algorithms')).filter((a) =>
        used.has(a.name),
      );
      const bundle: Bundle = { pipelines, algorithms };
      const yaml = ['.yml', '.yaml'].includes(extname(o.output).toLowerCase());
      await writeFile(
        resolve(ctx.cwd, o.output),
        yaml ? stringify(bundle) : `${JSON.stringify(bundle, null, 2)}\n`,
      );
      if (o.json) return printJson(ctx, { pipelines: pipelines.length, algorithms: algorithms.length });
      ctx.stdout.write(
        `exported ${pipelines.length} pipeline(s) and ${algorithms.length} algorithm(s) to ${o.output}\n`,
      );
    }),
  );
  common(
    p
      .command('import')
      .description('store the pipelines and algorithms of an export file (all checked before any is stored)')
      .requiredOption('-f, --file <file>', 'a file written by `sluice pipeline export`')
      .option('--overwrite', 'replace stored pipelines and algorithms of the same names'),
  ).action((o: Common & { file: string; overwrite?: boolean }) =>
    withClient(ctx, o, async (c) => {
      const bundle = bundleOf(o.file, await readDescriptorFile(ctx, o.file));
      if (bundle.pipelines.length === 0 && bundle.algorithms.length === 0) {
        throw new CliError(`${o.file}: nothing to import`);
      }
      for (const a of bundle.algorithms) {
        try {
          validateAlgorithm(structuredClone(a));
        } catch (err) {
          if (err instanceof ValidationError)
            throw new CliError(`${o.file}: algorithm "${a.name}": ${err.message}`);
          throw err;
        }
      }
      if (!o.overwrite) {
        const stored = new Set(
          (await c.call<{ name: string }[]>('GET', '/store/algorithms')).map((a) => a.name),
        );
        const clash = bundle.algorithms.find((a) => stored.has(a.name));
        if (clash)
          throw new CliError(
            `algorithm "${clash.name}" is already registered (add --overwrite to replace it)`,
          );
      }
      // Pipelines are checked (all or nothing) before the algorithms are written: a bad pipeline
      // leaves nothing behind. Their algorithms must exist only when they run.
      const stored = bundle.pipelines.length
        ? await c.call<{ name: string }[]>('POST', '/store/pipelines', bundle.pipelines, {
            ...(o.overwrite ? { overwrite: 'true' } : {}),
          })
        : [];
      for (const a of bundle.algorithms) await c.call('PUT', '/store/algorithms', a);
      if (o.json) return printJson(ctx, { pipelines: stored.length, algorithms: bundle.algorithms.length });
      ctx.stdout.write(
        `imported ${stored.length} pipeline(s) and ${bundle.algorithms.length} algorithm(s)\n`,
      );
    }),
  );
}
