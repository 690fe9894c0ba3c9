// `sluice pipeline ...` and `sluice algorithm ...`: stored pipelines and registered algorithms.
import type { Command } from 'commander';
import { DEFAULT_CRON_PATTERN } from '../../shared/pipeline/constants.ts';
import { applyAlgorithmFiles } from '../algorithm-files.ts';
import type { CliContext } from '../context.ts';
import { printJson, printTable } from '../output.ts';
import { readDescriptorFile } from './descriptor-file.ts';
import { registerExportImport } from './store-bundle.ts';
import { type Common, common, withClient } from './store-common.ts';

export function registerPipeline(program: Command, ctx: CliContext): void {
  const p = program
    .command('pipeline')
    .description('store, show, list, delete, export and import pipeline descriptors');
  pipelineCommands(p, ctx);
  registerExportImport(p, ctx);
}

export function registerAlgorithm(program: Command, ctx: CliContext): void {
  algorithmCommands(
    program.command('algorithm').description('register, show, list and delete algorithms'),
    ctx,
  );
}

/** hkubectl's spelling: `store pipelines ...` and `store algorithms ...` (`add` as well as `store`). */
export function registerStore(program: Command, ctx: CliContext): void {
  const st = program
    .command('store')
    .description(
      'hkubectl spelling of `sluice pipeline` and `sluice algorithm`: store pipelines|algorithms ...',
    );
  pipelineCommands(st.command('pipelines').description('same as `sluice pipeline`'), ctx);
  algorithmCommands(st.command('algorithms').description('same as `sluice algorithm`'), ctx);
}

function pipelineCommands(p: Command, ctx: CliContext): void {
  common(
    p
      .command('store')
      .alias('add')
      .description(
        'store a pipeline, or an array of them (all validated first; existing ones are replaced only with --update)',
      )
      .requiredOption('-f, --file <file>', 'pipeline descriptor, or an array of them (JSON or YAML)')
      .option('--update', 'replace stored pipelines of the same name'),
  ).action((o: Common & { file: string; update?: boolean }) =>
    withClient(ctx, o, async (c) => {
      const body = await readDescriptorFile(ctx, o.file);
      const stored = await c.call<{ name: string } | { name: string }[]>('POST', '/store/pipelines', body, {
        ...(o.update ? { overwrite: 'true' } : {}),
      });
      if (o.json) return printJson(ctx, stored);
      for (const p of Array.isArray(stored) ? stored : [stored])
        ctx.stdout.write(`stored pipeline ${p.name}\n`);
    }),
  );
  registerLatestRuns(p, ctx, '/pipelines', 'runs of a stored pipeline');
  common(
    p.command('get').description('print a stored pipeline (with defaults filled in)').argument('<name>'),
  ).action((name: string, o: Common) =>
    withClient(ctx, o, async (c) =>
      printJson(ctx, await c.call('GET', `/store/pipelines/${encodeURIComponent(name)}`)),
    ),
  );
  common(p.command('list').description('list stored pipelines')).action((o: Common) =>
    withClient(ctx, o, async (c) => {
      const list = await c.call<Record<string, unknown>[]>('GET', '/store/pipelines');
      if (o.json) return printJson(ctx, list);
      printTable(
        ctx,
        list.map((x) => ({
          name: x.name,
          nodes: (x.nodes as unknown[]).length,
          priority: x.priority,
          triggers: JSON.stringify(x.triggers ?? {}),
        })),
        ['name', 'nodes', 'priority', 'triggers'],
      );
    }),
  );
  common(p.command('delete').description('delete a stored pipeline').argument('<name>')).action(
    (name: string, o: Common) =>
      withClient(ctx, o, async (c) => {
        await c.call('DELETE', `/store/pipelines/${encodeURIComponent(name)}`);
        ctx.stdout.write(`deleted pipeline ${name}\n`);
      }),
  );
}

function algorithmCommands(a: Command, ctx: CliContext): void {
  common(
    a
      .command('apply')
      .description(
        'register (or replace) algorithm definitions, each change a new version; relative codePaths are relative to the file. With --endpoint (or $SLUICE_ENDPOINT) the code is uploaded: a directory packed as .tar.gz',
      )
      .requiredOption('-f, --file <files...>', 'algorithm definition files (YAML or JSON)')
      .addHelpText(
        'after',
        '\nExample definition (alg.yml):\n' +
          '  name: multiply\n  env: python            # python | nodejs | command\n' +
          '  codePath: ./multiply    # a directory or a .tar.gz of one\n  entryPoint: main.py\n',
      ),
  ).action((o: Common & { file: string[] }) =>
    withClient(ctx, o, async (c) => {
      // An API named by URL may run on another machine: it gets the code, not a path to it.
      const upload = Boolean(o.endpoint ?? ctx.env.SLUICE_ENDPOINT);
      for (const { def } of await applyAlgorithmFiles(ctx, c, o.file, upload)) {
        if (o.json) printJson(ctx, def);
        else ctx.stdout.write(`registered algorithm ${def.name} (version ${def.version ?? 'none'})\n`);
      }
    }),
  );
  common(
    a
      .command('versions')
      .description('list the versions of an algorithm, newest first (* = current)')
      .argument('<name>'),
  ).action((name: string, o: Common) =>
    withClient(ctx, o, async (c) => {
      const path = `/${['versions', 'algorithms', name].map(encodeURIComponent).join('/')}`;
      const [versions, current] = await Promise.all([
        c.call<{ version: string; semver: string; created: number; algorithm: Record<string, unknown> }[]>(
          'GET',
          path,
        ),
        c.call<{ version?: string }>('GET', `/store/algorithms/${encodeURIComponent(name)}`),
      ]);
      if (o.json) return printJson(ctx, versions);
      printTable(
        ctx,
        versions.map((v) => ({
          current: v.version === current.version ? '*' : '',
          version: v.version,
          semver: v.semver,
          created: new Date(v.created).toISOString(),
          code: codeOf(v.algorithm),
        })),
        ['current', 'version', 'semver', 'created', 'code'],
      );
    }),
  );
  common(
    a
      .command('restore')
      .description('make a stored version the current one again (running jobs keep their version)')
      .argument('<name>')
      .argument('<version>', 'the version id, or its semver (1.0.2)'),
  ).action((name: string, version: string, o: Common) =>
    withClient(ctx, o, async (c) => {
      const v = await c.call<{ version: string; semver: string }>('POST', '/versions/algorithms/apply', {
        name,
        version,
      });
      if (o.json) return printJson(ctx, v);
      ctx.stdout.write(`algorithm ${name} is at version ${v.version} (${v.semver})\n`);
    }),
  );
  common(a.command('get').description('print an algorithm definition').argument('<name>')).action(
    (name: string, o: Common) =>
      withClient(ctx, o, async (c) =>
        printJson(ctx, await c.call('GET', `/store/algorithms/${encodeURIComponent(name)}`)),
      ),
  );
  common(a.command('list').description('list registered algorithms')).action((o: Common) =>
    withClient(ctx, o, async (c) => {
      const list = await c.call<Record<string, unknown>[]>('GET', '/store/algorithms');
      if (o.json) return printJson(ctx, list);
      printTable(ctx, list, ['name', 'env', 'entryPoint', 'codePath', 'maxWorkers']);
    }),
  );
  common(a.command('delete').description('delete an algorithm').argument('<name>')).action(
    (name: string, o: Common) =>
      withClient(ctx, o, async (c) => {
        await c.call('DELETE', `/store/algorithms/${encodeURIComponent(name)}`);
        ctx.stdout.write(`deleted algorithm ${name}\n`);
      }),
  );
}

export function registerCron(program: Command, ctx: CliContext): void {
  const cr = program
    .command('cron')
    .description('cron triggers of stored pipelines (they fire while `sluice serve` runs)');
  common(cr.command('list').description('list cron triggers and their next run')).action((o: Common) =>
    withClient(ctx, o, async (c) => {
      const list = await c.call<Record<string, unknown>[]>('GET', '/cron/list');
      if (o.json) return printJson(ctx, list);
      printTable(ctx, list, ['name', 'pattern', 'enabled', 'nextRun']);
    }),
  );
  common(
    cr
      .command('start')
      .description('enable the cron trigger of a stored pipeline')
      .argument('<name>')
      .option(
        '--pattern <cron>',
        `5- or 6-field cron pattern (default: the stored one, else HKube's hourly "${DEFAULT_CRON_PATTERN}")`,
      ),
  ).action((name: string, o: Common & { pattern?: string }) =>
    withClient(ctx, o, async (c) => {
      printJson(
        ctx,
        await c.call('POST', '/cron/start', { name, ...(o.pattern ? { pattern: o.pattern } : {}) }),
      );
    }),
  );
  registerLatestRuns(cr, ctx, '/cron', 'runs its cron trigger started');
  common(
    cr.command('stop').description('disable the cron trigger of a stored pipeline').argument('<name>'),
  ).action((name: string, o: Common) =>
    withClient(ctx, o, async (c) => {
      printJson(ctx, await c.call('POST', '/cron/stop', { name }));
    }),
  );
}

/** `status NAME` and `results NAME`: the latest runs (HKube's /pipelines/* and /cron/* routes). */
function registerLatestRuns(
  parent: Command,
  ctx: CliContext,
  prefix: '/pipelines' | '/cron',
  what: string,
): void {
  for (const kind of ['status', 'results'] as const) {
    common(
      parent
        .command(kind)
        .description(`${kind} of the latest ${what}, newest first`)
        .argument('<name>')
        .option('--limit <n>', 'how many runs (default 1)'),
    ).action((name: string, o: Common & { limit?: string }) =>
      withClient(ctx, o, async (c) => {
        const runs = await c.call<Record<string, unknown>[]>(
          'GET',
          `${prefix}/${kind}/${encodeURIComponent(name)}`,
          undefined,
          { limit: o.limit },
        );
        if (o.json || kind === 'results') return printJson(ctx, runs);
        printTable(ctx, runs, ['jobId', 'status', 'progress', 'createdAt', 'finishedAt', 'reason']);
      }),
    );
  }
}

/** Where a version's code is: its upload (checksum) or its codePath. */
function codeOf(def: Record<string, unknown>): string {
  const info = def.fileInfo as { checksum?: string } | undefined;
  if (info?.checksum) return `upload ${info.checksum.slice(0, 12)}`;
  return typeof def.codePath === 'string' ? def.codePath : '';
}
