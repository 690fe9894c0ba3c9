// Flags and output shared by `sluice cp`, `sluice zip` and `sluice rm`: -j, --max-memory, --json,
// the progress line, the S3 store (only built when an s3:// argument is given), and the summary.
// The IO commands are where the CLI composes the AWS object stores into shared/io.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { createAwsObjectStores } from '../../shared/adapters/aws/s3-object-stores.ts';
import { DEFAULT_JOBS, DEFAULT_MAX_MEMORY } from '../../shared/io/constants.ts';
import type { VolumeKind } from '../../shared/io/local-fs.ts';
import { storeForLocations } from '../../shared/io/object-stores.ts';
import { newCounters, type ProgressCounters, startProgress } from '../../shared/io/progress.ts';
import { formatBytes, parseSize } from '../../shared/io/size.ts';
import type { IoOptions, IoSummary } from '../../shared/io/types.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';

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

function sizeParser(flag: string): (v: string) => number {
  return (v) => {
    try {
      return parseSize(v, flag);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}
const parseMemory = sizeParser('--max-memory');

/** A repeatable flag: each use adds one value. */
export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/** --bwlimit and its curl/wget spelling --limit-rate: one meaning (bytes/s) in cp, sync and fetch. */
export function addRateFlags(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        '--bwlimit <size>',
        'move at most SIZE bytes per second, e.g. 512K, 10M (also --limit-rate)',
      ).argParser(sizeParser('--bwlimit')),
    )
    .addOption(
      new Option('--limit-rate <size>', 'the same as --bwlimit')
        .argParser(sizeParser('--limit-rate'))
        .hideHelp(),
    );
}

export interface RateFlags {
  bwlimit?: number;
  limitRate?: number;
}

export function rateOf(flags: RateFlags): number | undefined {
  return flags.bwlimit ?? flags.limitRate;
}

export interface CopyFlags extends IoFlags, RateFlags {
  include?: string[];
  exclude?: string[];
  checksum?: boolean;
  dryRun?: boolean;
  logFile?: string;
}

/** The flags cp and sync share with rclone (--include/--exclude, --checksum, --dry-run, --log-file). */
export function addCopyFlags(cmd: Command, dryRunWhat: string): Command {
  return addRateFlags(
    cmd
      .option(
        '--include <glob>',
        'copy only what matches (repeatable; rclone globs, relative to SRC: see below)',
        collect,
      )
      .option('--exclude <glob>', 'leave out what matches (repeatable; tried before --include)', collect)
      .option('--checksum', 'compare content (MD5), not size and mtime, to decide what is up to date')
      .option('--dry-run', dryRunWhat)
      .option('--log-file <file>', 'append one line per action (copy, link, delete, fail) to FILE'),
  );
}

export const GLOB_HELP =
  '\nGlobs (rclone rules): * any characters but /, ** anything, ? one character, [a-z], {a,b}.\n' +
  'A glob starting with / matches from the root of SRC, otherwise the end of a path (*.jpg: every .jpg);\n' +
  'one ending in / names directories (an excluded directory is not walked). All --exclude are tried\n' +
  'before all --include; the first match decides; with any --include, what matches none is left out.\n';

/** Opens --log-file for appending (one line, naming FILE, when it cannot be). */
export async function openActionLog(
  ctx: CliContext,
  file: string | undefined,
): Promise<{ log?: (line: string) => void; close(): Promise<void> }> {
  if (file === undefined) return { close: async () => {} };
  const path = resolve(ctx.cwd, file);
  const fh = await open(path, 'a').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot write the log file ${path}: ${err.code ?? err.message}`);
  });
  const out = createWriteStream('', { fd: fh.fd, autoClose: false });
  return {
    log: (line) => out.write(`${new Date().toISOString()} ${line}\n`),
    close: async () => {
      await new Promise<void>((r) => out.end(r));
      await fh.close();
    },
  };
}

/** --dry-run: each planned action on stdout (or the JSON), what it amounts to on stderr. */
export function reportDryRun(ctx: CliContext, flags: IoFlags, s: IoSummary): void {
  if (flags.json) {
    ctx.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
  } else {
    for (const a of s.actions ?? [])
      ctx.stdout.write(
        a.action === 'copy' ? `copy ${a.from} -> ${a.to} (${formatBytes(a.bytes)})\n` : `delete ${a.path}\n`,
      );
  }
  for (const f of s.failures) ctx.stderr.write(`sluice ${s.operation}: ${f.path}: ${f.message}\n`);
  if (!flags.quiet) {
    const deleted = s.deleted !== undefined ? `, ${s.deleted} to delete` : '';
    ctx.stderr.write(
      `sluice ${s.operation}: dry run: ${s.files} files (${formatBytes(s.bytes)}) to copy${deleted}; nothing was changed\n`,
    );
  }
  if (s.failures.length > 0) ctx.exitCode = 1;
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
    const deleted = s.deleted !== undefined ? `, ${s.deleted} deleted` : '';
    const failed = s.failures.length ? `, ${s.failures.length} FAILED` : '';
    ctx.stderr.write(
      `sluice ${s.operation}: ${s.files} files (${formatBytes(s.bytes)}), ${s.directories} directories, ${s.symlinks} symlinks${skipped}${deleted}${failed} in ${s.seconds.toFixed(2)} s${rate}\n`,
    );
  }
  if (s.failures.length > 0) ctx.exitCode = 1;
}
