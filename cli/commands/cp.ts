// `sluice cp SRC... DST`: parses flags and prints; the copying is shared/io/cp.ts.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import {
  addCopyFlags,
  addIoFlags,
  type CopyFlags,
  GLOB_HELP,
  ioRun,
  openActionLog,
  rateOf,
  reportDryRun,
  reportSummary,
} from './io-common.ts';

interface CpFlags extends CopyFlags {
  update?: boolean;
  noTargetDirectory?: boolean;
}

export const registerCp: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command('cp')
    .summary('copy files and trees concurrently (local paths and s3://)')
    .description(
      'Copy files and directory trees concurrently (cp -r semantics) between local paths and s3://. ' +
        'Keeps modes, mtimes, symlinks and empty directories (locally); each file lands via a temp ' +
        'name + rename; large files are read at several offsets at once / sent as multipart uploads.',
    )
    .argument(
      '<paths...>',
      'SRC... DST: local paths or s3://bucket/key (several sources need a directory DST)',
    )
    .option('-u, --update', 'skip files whose size and mtime already match at the destination (resume a run)')
    .option('-T, --no-target-directory', 'treat DST as the copy itself even if it is an existing directory');
  addCopyFlags(cmd, 'list what would be copied (stdout), copy nothing');
  addIoFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice cp /mnt/efs/dataset /data              copy into /data/dataset\n' +
        '  sluice cp -j 256 --json a b c /backup/         several sources into a directory, JSON summary\n' +
        '  sluice cp -u -T /data/run1 /mnt/efs/run1       finish an interrupted copy (skip what is done)\n' +
        '  sluice cp ./results s3://bucket/runs/42        upload a tree (keys runs/42/...)\n' +
        '  sluice cp s3://bucket/runs/42 ./run42          download a prefix\n' +
        '  sluice cp s3://a/x/ s3://b/y/                  server-side copy into y/x/...\n' +
        "  sluice cp --include '*.csv' --exclude 'tmp/' --dry-run data /backup/   what would be copied\n" +
        GLOB_HELP +
        '\nS3 uses the standard AWS credential chain and AWS_ENDPOINT_URL_S3 (LocalStack, MinIO...).\n' +
        'Exit status 1 if any item failed (all failures are listed; the rest is still copied).\n',
    )
    .action(async (paths: string[], flags: CpFlags) => {
      if (paths.length < 2)
        throw new CliError('cp needs a source and a destination (sluice cp SRC... DST)', 2);
      const sources = paths.slice(0, -1);
      const dst = paths[paths.length - 1]!;
      const { copyTree } = await import('../../shared/io/cp.ts');
      const log = await openActionLog(ctx, flags.logFile);
      const run = await ioRun(ctx, flags, 'cp', paths);
      const bwlimit = rateOf(flags);
      try {
        const summary = await copyTree(sources, dst, {
          ...run.opts,
          cwd: ctx.cwd,
          update: flags.update ?? false,
          ...(flags.include ? { include: flags.include } : {}),
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
          checksum: flags.checksum ?? false,
          dryRun: flags.dryRun ?? false,
          ...(bwlimit ? { bwlimit } : {}),
          ...(log.log ? { log: log.log } : {}),
          // commander turns --no-target-directory into targetDirectory: false
          noTargetDirectory: (flags as { targetDirectory?: boolean }).targetDirectory === false,
        });
        run.stop();
        if (flags.dryRun) reportDryRun(ctx, flags, summary);
        else reportSummary(ctx, flags, summary);
      } catch (err) {
        run.stop();
        throw new CliError(`cp: ${(err as Error).message}`, 1, { cause: err });
      } finally {
        await log.close();
      }
    });
};
