// `sluice fetch URL`: parses flags, runs shared/io/fetch, prints progress and the summary.
import path from 'node:path';
import { Option } from 'commander';
import { createAwsObjectStores } from '../../shared/adapters/aws/s3-object-stores.ts';
import { SluiceError } from '../../shared/errors.ts';
import { parseChecksum } from '../../shared/io/fetch/checksum.ts';
import { COMPRESSIONS } from '../../shared/io/fetch/decompress.ts';
import { FETCH_DEFAULTS, fetchArchive } from '../../shared/io/fetch/fetch.ts';
import type { FetchOutput } from '../../shared/io/fetch/types.ts';
import { newCounters, startProgress } from '../../shared/io/progress.ts';
import { formatBytes, parseSize } from '../../shared/io/size.ts';
import { CliError, UsageError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';

interface FetchFlags {
  output?: string;
  stdout?: boolean;
  extract?: boolean;
  directory?: string;
  compression?: string;
  jobs: string;
  workers?: string;
  chunkSize: string;
  maxMemory: string;
  speedLimit: string;
  speedTime: string;
  timeout: string;
  checksum?: string;
  retries: string;
  writeWorkers: string;
  stripComponents: string;
  overwrite?: boolean;
  preservePermissions?: boolean;
  json?: boolean;
  quiet?: boolean;
  progress?: boolean;
}

function int(v: string, flag: string, min: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} must be an integer >= ${min} (got "${v}")`);
  return n;
}

function size(v: string, flag: string, allowZero = false): number {
  if (allowZero && /^\s*0+\s*$/.test(v)) return 0;
  try {
    return parseSize(v, flag);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function checksum(v: string) {
  try {
    return parseChecksum(v);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export const registerFetch: RegisterCommand = (program, ctx) => {
  program
    .command('fetch')
    .summary('download a file fast (parallel ranges), streaming tar/tar.gz/tar.lz4 into extraction')
    .description(
      'Download URL with parallel ranged requests, reassembled in order as one stream, and extract it as it arrives (the default when the stream is a tar archive, plain or gzip/lz4/zstd-compressed, detected from its first bytes), or save it with -o / -O. URL is http(s)://, s3://bucket/key (standard AWS credentials; AWS_ENDPOINT_URL_S3 for other endpoints) or a local path. Extraction is safe by default: absolute names, "..", links leading outside DIR, writes through symlinks and device files are refused or skipped; existing files are not replaced without --overwrite; setuid/setgid bits are dropped without --preserve-permissions.',
    )
    .argument('<url>', 'http(s)://..., s3://bucket/key, or a local file')
    .option('-x, --extract', 'extract the tar archive (default when the stream is a tar archive)')
    .option('-C, --directory <dir>', 'extract into DIR (created if missing; default: current directory)')
    .option('-o, --output <file>', 'save the downloaded bytes to FILE (as downloaded, not decompressed)')
    .option('-O, --stdout', 'write the downloaded bytes to stdout')
    .addOption(
      new Option('--compression <kind>', 'force the decoder instead of sniffing magic bytes').choices([
        ...COMPRESSIONS,
      ]),
    )
    .option(
      '-j, --jobs <n>',
      'concurrent ranged requests (requests in flight)',
      String(FETCH_DEFAULTS.workers),
    )
    .addOption(new Option('--workers <n>', 'old name of --jobs').hideHelp())
    .option('--chunk-size <size>', 'bytes per ranged request (e.g. 8M)', '4M')
    .option('--max-memory <size>', 'memory budget for buffered download, decoding and pending writes', '256M')
    .option(
      '--speed-limit <size>',
      'fail when the download stays slower than this many bytes/s for --speed-time (as curl; 0 = never)',
      '16K',
    )
    .option(
      '--speed-time <seconds>',
      'how long the download may stay below --speed-limit (a request that slow for a third of it is reconnected)',
      String(FETCH_DEFAULTS.speedTime),
    )
    .option(
      '--timeout <seconds>',
      'how long a request may wait for an answer or go without bytes before it is retried (0 = never)',
      String(FETCH_DEFAULTS.timeoutSeconds),
    )
    .option(
      '--retries <n>',
      'attempts per chunk without progress before giving up',
      String(FETCH_DEFAULTS.retries),
    )
    .option(
      '--write-workers <n>',
      'files written concurrently when extracting',
      String(FETCH_DEFAULTS.writeWorkers),
    )
    .option(
      '--checksum <alg=hex>',
      'fail unless the downloaded bytes have this digest (md5, sha1, sha256 or sha512), checked while streaming; nothing is kept on a mismatch',
    )
    .option('--strip-components <n>', 'drop the first N path components of every entry', '0')
    .option('--overwrite', 'replace existing files in DIR (default: refuse)')
    .option('--preserve-permissions', 'keep setuid/setgid bits (default: stripped)')
    .option('--json', 'print a JSON summary on stdout')
    .option('-q, --quiet', 'no progress line and no warnings')
    .option('--no-progress', 'no progress line (warnings are still printed)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice fetch https://example.com/runtime.tar.lz4 -C /opt/runtime     download and extract\n' +
        '  sluice fetch s3://models/llama.tar.gz -x -C /data --strip-components 1\n' +
        '  sluice fetch https://example.com/big.iso -o big.iso -j 32 --chunk-size 16M\n' +
        '  sluice fetch https://example.com/data.tar -O | tar t                 stream the bytes to stdout\n' +
        '  sluice fetch ./dataset.tar.lz4 -C data --json                        local files work too\n' +
        '  sluice fetch https://example.com/x.tgz -C x --checksum sha256=9f86d0...  verify while downloading\n',
    )
    .action(async (url: string, f: FetchFlags) => {
      const modes = [
        f.output !== undefined,
        Boolean(f.stdout),
        Boolean(f.extract) || f.directory !== undefined,
      ];
      if (modes.filter(Boolean).length > 1) throw new UsageError('choose one of -o FILE, -O, or -x [-C DIR]');
      let output: FetchOutput;
      if (f.output !== undefined) output = { kind: 'file', path: path.resolve(ctx.cwd, f.output) };
      else if (f.stdout) output = { kind: 'stream', stream: ctx.stdout };
      else output = { kind: 'extract', dest: path.resolve(ctx.cwd, f.directory ?? '.') };
      if (f.stdout && f.json) throw new UsageError('--json cannot be combined with -O (both use stdout)');
      const counters = newCounters();
      const progress = startProgress(
        ctx.stderr,
        ctx.isTTY && !f.quiet && f.progress !== false && !f.stdout,
        'fetch',
        counters,
      );
      try {
        const summary = await fetchArchive(
          {
            url,
            output,
            compression: (f.compression as (typeof COMPRESSIONS)[number] | undefined) ?? 'auto',
            workers: int(f.workers ?? f.jobs, '--jobs', 1),
            chunkSize: size(f.chunkSize, '--chunk-size'),
            maxMemory: size(f.maxMemory, '--max-memory'),
            speedLimit: size(f.speedLimit, '--speed-limit', true),
            speedTime: int(f.speedTime, '--speed-time', 1),
            timeoutSeconds: int(f.timeout, '--timeout', 0),
            ...(f.checksum !== undefined ? { checksum: checksum(f.checksum) } : {}),
            retries: int(f.retries, '--retries', 0),
            writeWorkers: int(f.writeWorkers, '--write-workers', 1),
            stripComponents: int(f.stripComponents, '--strip-components', 0),
            overwrite: Boolean(f.overwrite),
            preservePermissions: Boolean(f.preservePermissions),
            log: (line) => {
              if (!f.quiet)
                ctx.stderr.write(`${ctx.isTTY ? '\r\x1b[2K' : ''}sluice fetch: warning: ${line}\n`);
            },
          },
          // The store (fast path, SDK on demand) is only built for an s3:// URL.
          { objectStores: createAwsObjectStores(ctx.env), cwd: ctx.cwd },
          counters,
        );
        progress.stop();
        if (f.json) ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else if (!f.quiet && !f.stdout) {
          const what =
            summary.mode === 'extract'
              ? `${summary.files} files, ${summary.directories} dirs, ${summary.symlinks} symlinks, ${summary.hardlinks} hard links into ${summary.output}`
              : `saved to ${summary.output}`;
          ctx.stderr.write(
            `fetched ${formatBytes(summary.bytes)} in ${summary.seconds.toFixed(2)} s (${summary.mbPerSec} MB/s): ${what}\n`,
          );
        }
      } catch (err) {
        progress.stop();
        if (err instanceof SluiceError) throw new CliError(err.message, 1, { cause: err });
        const e = err as NodeJS.ErrnoException;
        if (e.code && e.path) throw new CliError(`${e.path}: ${e.message}`, 1, { cause: err });
        throw err;
      }
    });
};
