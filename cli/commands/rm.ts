// `sluice rm -r TARGET...`: parses flags and prints; the removing is shared/io/rm.ts.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import { addIoFlags, type IoFlags, ioRun, reportSummary } from './io-common.ts';

interface RmFlags extends IoFlags {
  recursive?: boolean;
  force?: boolean;
}

export const registerRm: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command('rm')
    .summary('remove files and trees concurrently (local paths and s3://)')
    .description(
      'Remove files and directory trees concurrently (files first, spread over directories, then ' +
        'each directory as soon as it is empty). Symlinks are removed, never followed; nothing above ' +
        'or outside the targets is touched; /, . and .. are refused. s3://bucket/prefix removes the ' +
        'object "prefix" and everything under "prefix/" (DeleteObjects, 1000 keys per request).',
    )
    .argument('<targets...>', 'local paths or s3://bucket/prefix')
    .option('-r, --recursive', 'remove directories and their contents')
    .option('-f, --force', 'nonexistent targets are not an error');
  addIoFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice rm -r /mnt/efs/scratch/run42           remove a tree on a network volume\n' +
        '  sluice rm -rf --json a b c                      several targets, missing ones ignored\n' +
        '  sluice rm -r s3://bucket/tmp/run42              every object under tmp/run42/\n' +
        '\nExit status 1 if anything could not be removed (all failures are listed; the rest is gone).\n',
    )
    .action(async (targets: string[], flags: RmFlags) => {
      const { removeTree } = await import('../../shared/io/rm.ts');
      const run = await ioRun(ctx, flags, 'rm', targets);
      try {
        const summary = await removeTree(targets, {
          ...run.opts,
          cwd: ctx.cwd,
          recursive: flags.recursive ?? false,
          force: flags.force ?? false,
        });
        run.stop();
        reportSummary(ctx, flags, summary);
      } catch (err) {
        run.stop();
        throw new CliError(`rm: ${(err as Error).message}`, 1, { cause: err });
      }
    });
};
