// Flags and output shared by `sluice cp`, `sluice zip` and `sluice rm`: -j, --max-memory, --json,
// the progress line, the S3 store (only built when an s3:// argument is given), and the summary.
// The IO commands are where the CLI composes the AWS object stores into shared/io.
import { type Command, InvalidArgumentError, Option } from 'commander';
import { createAwsObjectStores } from '../../shared/adapters/aws/s3-object-stores.ts';
import { DEFAULT_JOBS, DEFAULT_MAX_MEMORY } from '../../shared/io/constants.ts';
import type { VolumeKind } from '../../shared/io/local-fs.ts';
import { storeForLocations } from '../../shared/io/object-stores.ts';
import { newCounters, type ProgressCounters, startProgress } from '../../shared/io/progress.ts';
import { formatBytes, parseSize } from '../../shared/io/size.ts';
import type { IoOptions, IoSummary } from '../../shared/io/types.ts';
import type { CliContext } from '../context.ts';

export interface IoFlags {
  jobs: number;
  maxMemory: number;
  json?: boolean;
  progress?: boolean;
  quiet?: boolean;
  volume: VolumeKind;
}

function parseJobs(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 4096)
    throw new InvalidArgumentError('must be an integer from 1 to 4096');
  return n;
}

function parseMemory(v: string): number {
  try {
    return parseSize(v, '--max-memory');
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

export function addIoFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('-j, --jobs <n>', 'operations in flight (files read/written/deleted at once)')
        .default(DEFAULT_JOBS)
        .argParser(parseJobs),
    )
    .addOption(
      new Option('--max-memory <size>', 'file data held in memory at once, e.g. 256M, 1G')
        .default(DEFAULT_MAX_MEMORY, formatBytes(DEFAULT_MAX_MEMORY).replace(' ', ''))
        .argParser(parseMemory),
    )
    .addOption(
      new Option(
        '--volume <kind>',
        'how to drive local file systems: network = -j calls in flight on threads (NFS, EFS, FUSE), ' +
          'local = one direct call at a time (faster on a local disk), auto = by file-system type',
      )
        .choices(['auto', 'local', 'network'])
        .default('auto'),
    )
    .option('--json', 'print a JSON summary (counts, bytes, seconds, failures) on stdout at the end')
    .option('--no-progress', 'no progress line (it is only drawn when stderr is a terminal)')
    .option('-q, --quiet', 'no progress line and no summary line (failures are still printed)');
}

/** Everything an IO operation needs from the CLI: options, counters, and the progress line. */
export async function ioRun(
  ctx: CliContext,
  flags: IoFlags,
  label: string,
  urls: string[],
): Promise<{ opts: IoOptions; counters: ProgressCounters; stop(): void }> {
  const counters = newCounters();
  const opts: IoOptions = {
    jobs: flags.jobs,
    maxMemory: flags.maxMemory,
    progress: counters,
    volume: flags.volume,
    ...(await storeForLocations(urls, createAwsObjectStores(ctx.env))),
  };
  const progress = startProgress(
    ctx.stderr,
    ctx.isTTY && flags.progress !== false && !flags.quiet && !flags.json,
    label,
    counters,
  );
  return { opts, counters, stop: () => progress.stop() };
}

/** Prints the summary (JSON or one human line), every failure on stderr, and sets the exit code. */
export function reportSummary(ctx: CliContext, flags: IoFlags, s: IoSummary): void {
  for (const note of s.notes ?? []) ctx.stderr.write(`sluice ${s.operation}: note: ${note}\n`);
  for (const f of s.failures) ctx.stderr.write(`sluice ${s.operation}: ${f.path}: ${f.message}\n`);
  if (flags.json) ctx.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  else if (!flags.quiet) {
    const rate =
      s.seconds > 0
        ? `, ${(s.files / s.seconds).toFixed(0)} files/s, ${(s.bytes / s.seconds / 1e6).toFixed(1)} MB/s`
        : '';
    const skipped = s.skipped ? `, ${s.skipped} skipped (up to date)` : '';
    const failed = s.failures.length ? `, ${s.failures.length} FAILED` : '';
    ctx.stderr.write(
      `sluice ${s.operation}: ${s.files} files (${formatBytes(s.bytes)}), ${s.directories} directories, ${s.symlinks} symlinks${skipped}${failed} in ${s.seconds.toFixed(2)} s${rate}\n`,
    );
  }
  if (s.failures.length > 0) ctx.exitCode = 1;
}
