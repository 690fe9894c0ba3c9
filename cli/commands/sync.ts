// `sluice sync SRC DST` and `sluice check SRC DST`: parse flags and print; the work is
// shared/io/sync.ts and shared/io/check.ts.
import type { Command } from 'commander';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import {
  addCopyFlags,
  addIoFlags,
  type CopyFlags,
  GLOB_HELP,
  type IoFlags,
  ioRun,
  openActionLog,
  rateOf,
  reportDryRun,
  reportSummary,
} from './io-common.ts';

export const registerSync: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command('sync')
    .summary('make DST equal to SRC: copy what differs, delete what SRC does not have')
    .description(
      'Make DST equal to SRC (local paths and s3://, as rclone sync): files missing or different in DST ' +
        '(size and mtime, or content with --checksum) are copied as `sluice cp -u -T` would, then files and ' +
        'directories that DST has and SRC has not are deleted — only when every copy succeeded. Excluded ' +
        'files are neither copied nor deleted. Refuses when one of SRC and DST is inside the other, and when ' +
        'SRC does not exist.',
    )
    .argument('<src>', 'the tree to copy: a local path or s3://bucket/prefix')
    .argument('<dst>', 'the tree made equal to it (created if missing)');
  addCopyFlags(cmd, 'list what would be copied and deleted (stdout), change nothing');
  addIoFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice sync --dry-run /data/run1 /mnt/efs/run1     what would be copied and deleted\n' +
        '  sluice sync ./site s3://bucket/site --checksum     upload what changed, delete the rest\n' +
        "  sluice sync --exclude '*.tmp' --log-file sync.log a b\n" +
        GLOB_HELP +
        'Exit status 1 if any item failed (nothing is deleted then).\n',
    )
    .action(async (src: string, dst: string, flags: CopyFlags) => {
      const { syncTree } = await import('../../shared/io/sync.ts');
      const log = await openActionLog(ctx, flags.logFile);
      const run = await ioRun(ctx, flags, 'sync', [src, dst]);
      const bwlimit = rateOf(flags);
      try {
        const summary = await syncTree(src, dst, {
          ...run.opts,
          cwd: ctx.cwd,
          ...(flags.include ? { include: flags.include } : {}),
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
          checksum: flags.checksum ?? false,
          dryRun: flags.dryRun ?? false,
          ...(bwlimit ? { bwlimit } : {}),
          ...(log.log ? { log: log.log } : {}),
        });
        run.stop();
        if (flags.dryRun) reportDryRun(ctx, flags, summary);
        else reportSummary(ctx, flags, summary);
      } catch (err) {
        run.stop();
        throw new CliError(`sync: ${(err as Error).message}`, 1, { cause: err });
      } finally {
        await log.close();
      }
    });
};

interface CheckFlags extends IoFlags {
  include?: string[];
  exclude?: string[];
  checksum?: boolean;
}

export const registerCheck: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cmd = program
    .command('check')
    .summary('report how DST differs from SRC (missing on either side, different), copying nothing')
    .description(
      'Compare two trees (local paths and s3://) without copying: each file only in SRC (+), only in DST (-), ' +
        'or in both but different (*: size and mtime by the rule `cp -u` uses, content with --checksum) is ' +
        'printed on stdout; errors (!) too. Exit status 0 when they match, 1 when they differ.',
    )
    .argument('<src>', 'a local path or s3://bucket/prefix')
    .argument('<dst>', 'a local path or s3://bucket/prefix')
    .option('--include <glob>', 'compare only what matches (repeatable, as cp)', (v, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--exclude <glob>', 'leave out what matches (repeatable, as cp)', (v, p: string[] = []) => [
      ...p,
      v,
    ])
    .option('--checksum', 'compare content (MD5; an S3 ETag when it is one), not size and mtime');
  addIoFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice check /data/run1 /mnt/efs/run1            after a copy: anything missing or stale?\n' +
        '  sluice check --checksum ./site s3://bucket/site  compare content\n' +
        '  sluice check --json a b                          {missingOnDestination, missingOnSource, differ, ...}\n' +
        GLOB_HELP,
    )
    .action(async (src: string, dst: string, flags: CheckFlags) => {
      const { checkTrees } = await import('../../shared/io/check.ts');
      const run = await ioRun(ctx, flags, 'check', [src, dst]);
      try {
        const r = await checkTrees(src, dst, {
          ...run.opts,
          cwd: ctx.cwd,
          ...(flags.include ? { include: flags.include } : {}),
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
          checksum: flags.checksum ?? false,
        });
        run.stop();
        if (flags.json) ctx.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          for (const p of r.missingOnDestination) ctx.stdout.write(`+ ${p}\n`);
          for (const p of r.missingOnSource) ctx.stdout.write(`- ${p}\n`);
          for (const p of r.differ) ctx.stdout.write(`* ${p}\n`);
          for (const e of r.errors) ctx.stdout.write(`! ${e.path}: ${e.message}\n`);
        }
        if (!flags.quiet) {
          const diffs = r.missingOnDestination.length + r.missingOnSource.length + r.differ.length;
          ctx.stderr.write(
            r.match
              ? `sluice check: ${r.same} files match (${r.compare})\n`
              : `sluice check: ${diffs} differences (${r.missingOnDestination.length} missing on ${r.destination}, ${r.missingOnSource.length} missing on ${r.source}, ${r.differ.length} different${r.errors.length ? `, ${r.errors.length} errors` : ''}); ${r.same} match (${r.compare})\n`,
          );
        }
        if (!r.match) ctx.exitCode = 1;
      } catch (err) {
        run.stop();
        throw new CliError(`check: ${(err as Error).message}`, 1, { cause: err });
      }
    });
};
