// `sluice zip OUT.zip INPUT...`: parses flags and prints; the zipping is shared/io/zip.ts.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import { addIoFlags, type IoFlags, ioRun, reportSummary } from './io-common.ts';

interface ZipFlags extends IoFlags {
  deflate?: boolean;
  sort?: boolean;
  root?: string;
}

export const registerZip: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command('zip')
    .summary('zip files and trees, reading many files at once')
    .description(
      'Pack files and directory trees into a zip, reading many files at once. ' +
        'Stored (no compression) by default; zip64 when sizes or counts need it; directory entries, ' +
        "symlinks, modes and mtimes kept; names relative to each input's parent (or --root).",
    )
    .argument('<out>', 'the zip to write: a local path or s3://bucket/key (streamed as a multipart upload)')
    .argument('<inputs...>', 'files and directories to add')
    .option('--deflate', 'compress entries with deflate (default: stored)')
    .option('--sort', 'entries in name order, for byte-identical output from identical input')
    .option('--root <dir>', "entry names relative to this directory instead of each input's parent");
  addIoFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice zip /tmp/run.zip /mnt/efs/run42          entries run42/...\n' +
        '  sluice zip --sort --root /data out.zip /data/a /data/b/c    entries a/..., b/c/...\n' +
        '  sluice zip --deflate s3://bucket/logs.zip ./logs            stream a compressed zip to S3\n' +
        '\nExit status 1 if any input failed (all failures are listed; the zip holds the rest).\n',
    )
    .action(async (out: string, inputs: string[], flags: ZipFlags) => {
      const { zipTree } = await import('../../shared/io/zip.ts');
      const run = await ioRun(ctx, flags, 'zip', [out, ...inputs]);
      try {
        const summary = await zipTree(out, inputs, {
          ...run.opts,
          cwd: ctx.cwd,
          deflate: flags.deflate ?? false,
          sort: flags.sort ?? false,
          ...(flags.root === undefined ? {} : { root: flags.root }),
        });
        run.stop();
        reportSummary(ctx, flags, summary);
      } catch (err) {
        run.stop();
        throw new CliError(`zip: ${(err as Error).message}`, 1, { cause: err });
      }
    });
};
