// `sluice run FILE`: run a pipeline and print its results (raw exec + wait). Registers the
// algorithm definitions found beside the pipeline (algorithms/*.yml) first, so an example runs
// with one command.
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { validatePipeline } from '../../shared/pipeline/index.ts';
import { algorithmFilesIn, applyAlgorithmFiles } from '../algorithm-files.ts';
import { connectEngine } from '../connection.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import { jobFailures, reportFailures } from '../failure-summary.ts';
import { followJob } from '../job-progress.ts';
import { readDescriptorFile, readFlowInputFile } from './descriptor-file.ts';
import { parseWorkers } from './workers-flag.ts';

export interface RunFlags {
  flowInput?: string;
  json?: boolean;
  workers?: string;
  algorithms?: string[];
  endpoint?: string;
  quiet?: boolean;
  progress?: boolean;
  strict?: boolean;
}

/** Submits a raw pipeline, waits for it, prints results; shared by `run` and `exec raw`. */
export async function runPipelineFile(
  ctx: CliContext,
  file: string,
  flags: RunFlags,
  registerBeside: boolean,
) {
  const workers = parseWorkers(flags.workers); // a usage error comes before reading anything
  const pipeline = await readDescriptorFile(ctx, file);
  if (pipeline === null || typeof pipeline !== 'object' || Array.isArray(pipeline)) {
    throw new CliError(`${file}: a pipeline descriptor must be an object`);
  }
  const body = { ...(pipeline as Record<string, unknown>) };
  if (flags.flowInput) body.flowInput = await readFlowInputFile(ctx, flags.flowInput);
  // Checked here too (the API checks again) so a bad descriptor registers no algorithm beside it.
  validatePipeline(body);
  const { client } = await connectEngine(ctx, {
    ...(flags.endpoint ? { endpoint: flags.endpoint } : {}),
    ...(workers ? { workers } : {}),
  });
  try {
    const dirs = [
      ...(flags.algorithms ?? []),
      ...(registerBeside && file !== '-' ? [join(dirname(file), 'algorithms')] : []),
    ];
    const files: string[] = [];
    for (const dir of dirs) files.push(...(await algorithmFilesIn(ctx, dir)));
    // An API named by URL may run elsewhere: the code goes with the definitions (as algorithm apply).
    const upload = Boolean(flags.endpoint ?? ctx.env.SLUICE_ENDPOINT);
    for (const a of await applyAlgorithmFiles(ctx, client, files, upload)) {
      if (!flags.quiet && !flags.json) ctx.stderr.write(`registered algorithm ${a.def.name} (${a.file})\n`);
    }
    const { jobId } = await client.call<{ jobId: string }>('POST', '/exec/raw', body);
    if (!flags.quiet && !flags.json) ctx.stderr.write(`job ${jobId} submitted\n`);
    const status = await followJob(ctx, client, jobId, {
      quiet: flags.quiet === true || flags.json === true || flags.progress === false,
    });
    const results = await client.call<{ status: string; error?: string; data: unknown }>(
      'GET',
      `/exec/results/${encodeURIComponent(jobId)}`,
    );
    const failures = await jobFailures(client, jobId, status);
    const { reason } = status;
    ctx.stdout.write(
      `${JSON.stringify(flags.json ? { jobId, status: status.status, ...(reason ? { reason } : {}), results: results.data, failures } : results.data, null, 2)}\n`,
    );
    reportFailures(ctx, jobId, failures, {
      status: status.status,
      reason,
      json: flags.json === true,
      strict: flags.strict === true,
    });
  } finally {
    await client.close();
  }
}

export function registerRun(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run a pipeline on this machine (or --endpoint), wait, and print its results')
    .argument('<file>', 'pipeline descriptor (JSON or YAML; - reads stdin)')
    .option(
      '-f, --flow-input <file>',
      "flowInput file (JSON or YAML; - reads stdin); replaces the descriptor's",
    )
    .option('--json', 'print {jobId, status, results} as JSON (no progress)')
    .option('-w, --workers <n>', 'worker processes when the engine runs in this process (default: CPU count)')
    .option(
      '-a, --algorithms <dir...>',
      'register the algorithm definitions (*.yml, *.json) in these directories first',
    )
    .option('-q, --quiet', 'print only the results (no progress, no notes)')
    .option('--no-progress', 'no progress line (notes and the failure summary are still printed)')
    .option('--strict', 'exit 1 when any item failed, even within the batchTolerance')
    .option('--endpoint <url>', 'use the Sluice API at this URL instead of this machine')
    .addHelpText(
      'after',
      '\nDefinitions in an algorithms/ directory next to the pipeline file are registered automatically.\n' +
        'Exit status: 0 when the job completed, 1 when it failed or was stopped (or, with --strict, when any\n' +
        'item failed), 2 for a usage error. Failed items are summarized on stderr at the end.\n\n' +
        'Examples:\n' +
        '  sluice run examples/numbers/pipeline.yml\n' +
        '  sluice run pipeline.json -f flow.json --json\n',
    )
    .action(async (file: string, flags: RunFlags) => runPipelineFile(ctx, file, flags, true));
}
