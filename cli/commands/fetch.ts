// `sluice fetch URL`: parses flags, runs shared/io/fetch, prints progress and the summary.
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Option } from 'commander';
import { createAwsObjectStores } from '../../shared/adapters/aws/s3-object-stores.ts';
import { SluiceError } from '../../shared/errors.ts';
import { parseChecksum } from '../../shared/io/fetch/checksum.ts';
import { COMPRESSIONS } from '../../shared/io/fetch/decompress.ts';
import { FETCH_DEFAULTS, fetchArchive } from '../../shared/io/fetch/fetch.ts';
import type { FetchOptions, FetchOutput, FetchSummary } from '../../shared/io/fetch/types.ts';
import { type ListedDownload, nameFromUrl, parseUrlList } from '../../shared/io/fetch/url-list.ts';
import { newCounters, startProgress } from '../../shared/io/progress.ts';
import { formatBytes, parseSize } from '../../shared/io/size.ts';
import { CliError, UsageError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import { addRateFlags, collect, type RateFlags, rateOf } from './io-common.ts';

interface FetchFlags extends RateFlags {
  continue?: boolean;
  header?: string[];
  mirror?: string[];
  inputFile?: string;
  dir?: string;
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

/** `--header 'Name: value'` -> [name, value]. */
function header(v: string): [string, string] {
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(v);
  if (!m) throw new UsageError(`--header must be "Name: value" (got "${v}")`);
  return [m[1]!, m[2]!];
}

function checksum(v: string) {
  try {
    return parseChecksum(v);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export const registerFetch: RegisterCommand = (program, ctx) => {
  const cmd = program
    .command('fetch')
    .summary('download a file fast (parallel ranges), streaming tar/tar.gz/tar.lz4 into extraction')
    .description(
      'Download URL with parallel ranged requests, reassembled in order as one stream, and extract it as it arrives (the default when the stream is a tar archive, plain or gzip/lz4/zstd-compressed, detected from its first bytes), or save it with -o / -O. URL is http(s)://, s3://bucket/key (standard AWS credentials; AWS_ENDPOINT_URL_S3 for other endpoints) or a local path. Extraction is safe by default: absolute names, "..", links leading outside DIR, writes through symlinks and device files are refused or skipped; existing files are not replaced without --overwrite; setuid/setgid bits are dropped without --preserve-permissions.',
    )
    .argument(
      '[urls...]',
      'http(s)://..., s3://bucket/key, or a local file; more URLs are mirrors of the same file',
    )
    .option(
      '--mirror <url>',
      'another URL of the same file (repeatable): chunks are spread across all of them',
      collect,
    )
    .option(
      '-H, --header <header>',
      "send 'Name: value' with every http(s) request (repeatable; not after a redirect to another host)",
      collect,
    )
    .option(
      '-c, --continue',
      'resume the partial download of -o FILE an earlier run left (if the source is unchanged)',
    )
    .option(
      '-i, --input-file <file>',
      "download every URL listed in FILE (one per line; '-' for stdin) into -d DIR",
    )
    .option('-d, --dir <dir>', 'save downloads into DIR under their names (with -i, or instead of -o)')
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
    .option('--no-progress', 'no progress line (warnings are still printed)');
  addRateFlags(cmd)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice fetch https://example.com/runtime.tar.lz4 -C /opt/runtime     download and extract\n' +
        '  sluice fetch s3://models/llama.tar.gz -x -C /data --strip-components 1\n' +
        '  sluice fetch https://example.com/big.iso -o big.iso -j 32 --chunk-size 16M\n' +
        '  sluice fetch https://example.com/data.tar -O | tar t                 stream the bytes to stdout\n' +
        '  sluice fetch ./dataset.tar.lz4 -C data --json                        local files work too\n' +
        '  sluice fetch https://example.com/x.tgz -C x --checksum sha256=9f86d0...  verify while downloading\n' +
        '  sluice fetch -c https://example.com/big.iso -o big.iso                resume what an earlier run left\n' +
        '  sluice fetch https://a.example/f.iso https://b.example/f.iso -o f.iso  two mirrors, chunks from both\n' +
        "  sluice fetch -H 'Authorization: Bearer $TOKEN' https://example.com/private.tar -C out\n" +
        '  sluice fetch -i urls.txt -d downloads --limit-rate 10M               a list, saved as files\n' +
        '\nThe list of -i: one file per line: URL [MIRROR...] [out=NAME] (aria2\'s "  out=NAME" on the next,\n' +
        'indented line works too); blank lines and # comments are skipped; NAME defaults to the last part\n' +
        "of the URL's path and stays inside DIR. Unreachable hosts (DNS failure, connection refused) fail\n" +
        'at once, without retries. With --json a failure is a JSON document too ({"error": ...}), exit 1.\n',
    )
    .action(async (urls: string[], f: FetchFlags) => {
      if (f.inputFile !== undefined) return fetchList(urls, f);
      const [url, ...extra] = urls;
      if (url === undefined)
        throw new UsageError('fetch needs a URL (sluice fetch URL [MIRROR...], or -i FILE)');
      const mirrors = [...extra, ...(f.mirror ?? [])];
      const modes = [
        f.output !== undefined,
        Boolean(f.stdout),
        Boolean(f.extract) || f.directory !== undefined,
        f.dir !== undefined,
      ];
      if (modes.filter(Boolean).length > 1)
        throw new UsageError('choose one of -o FILE, -O, -x [-C DIR], or -d DIR');
      let output: FetchOutput;
      if (f.output !== undefined) output = { kind: 'file', path: path.resolve(ctx.cwd, f.output) };
      else if (f.dir !== undefined) {
        const name = nameFromUrl(url);
        if (!name) throw new UsageError(`cannot name the file of ${url}: use -o FILE`);
        output = { kind: 'file', path: path.resolve(ctx.cwd, f.dir, name) };
      } else if (f.stdout) output = { kind: 'stream', stream: ctx.stdout };
      else output = { kind: 'extract', dest: path.resolve(ctx.cwd, f.directory ?? '.') };
      if (f.continue && output.kind !== 'file')
        throw new UsageError('-c/--continue resumes a file: use it with -o FILE');
      if (f.stdout && f.json) throw new UsageError('--json cannot be combined with -O (both use stdout)');
      const common = commonOptions(f);
      try {
        if (f.dir !== undefined && output.kind === 'file')
          await mkdir(path.dirname(output.path), { recursive: true });
        const summary = await fetchOne(url, mirrors, output, f, common);
        if (f.json) ctx.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
        else if (!f.quiet && !f.stdout) ctx.stderr.write(`${describe(summary)}\n`);
      } catch (err) {
        const e = asCliError(err);
        if (f.json) {
          ctx.stdout.write(`${JSON.stringify(failureJson(url, output, err), null, 2)}\n`);
        }
        throw e;
      }
    });

  /** The options every download of this command line shares. */
  function commonOptions(f: FetchFlags): Omit<FetchOptions, 'url' | 'output'> {
    const headers = f.header?.length ? Object.fromEntries(f.header.map(header)) : undefined;
    const bwlimit = rateOf(f);
    return {
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
      ...(headers ? { headers } : {}),
      ...(bwlimit ? { bwlimit } : {}),
      continue: Boolean(f.continue),
      log: (line) => {
        if (!f.quiet) ctx.stderr.write(`${ctx.isTTY ? '\r\x1b[2K' : ''}sluice fetch: warning: ${line}\n`);
      },
    };
  }

  async function fetchOne(
    url: string,
    mirrors: string[],
    output: FetchOutput,
    f: FetchFlags,
    common: Omit<FetchOptions, 'url' | 'output'>,
  ): Promise<FetchSummary> {
    const counters = newCounters();
    const progress = startProgress(
      ctx.stderr,
      ctx.isTTY && !f.quiet && f.progress !== false && !f.stdout,
      'fetch',
      counters,
    );
    try {
      return await fetchArchive(
        { ...common, url, output, ...(mirrors.length ? { mirrors } : {}) },
        // The store (fast path, SDK on demand) is only built for an s3:// URL.
        { objectStores: createAwsObjectStores(ctx.env), cwd: ctx.cwd },
        counters,
      );
    } finally {
      progress.stop();
    }
  }

  /** -i FILE: every listed download in turn (each one parallel), the failures reported at the end. */
  async function fetchList(args: string[], f: FetchFlags): Promise<void> {
    if (
      args.length ||
      f.mirror?.length ||
      f.output !== undefined ||
      f.stdout ||
      f.extract ||
      f.directory !== undefined
    )
      throw new UsageError(
        '-i FILE takes its URLs from FILE and saves them into -d DIR: no URL, -o, -O, -x or -C',
      );
    const file = f.inputFile!;
    let text: string;
    try {
      text = file === '-' ? await readStdin() : await readFile(path.resolve(ctx.cwd, file), 'utf8');
    } catch (err) {
      throw new CliError(
        `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    let list: ListedDownload[];
    try {
      list = parseUrlList(text, file);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    const dir = path.resolve(ctx.cwd, f.dir ?? '.');
    const common = commonOptions(f);
    const done: FetchSummary[] = [];
    const failures: ReturnType<typeof failureJson>[] = [];
    for (const item of list) {
      const output: FetchOutput = { kind: 'file', path: path.join(dir, item.out) };
      try {
        // -d DIR and the directories of out= names are created, as aria2 does.
        await mkdir(path.dirname(output.path), { recursive: true });
        const s = await fetchOne(item.urls[0]!, item.urls.slice(1), output, f, common);
        done.push(s);
        if (!f.json && !f.quiet) ctx.stderr.write(`${describe(s)}\n`);
      } catch (err) {
        failures.push(failureJson(item.urls[0]!, output, err));
        ctx.stderr.write(`sluice: fetch: ${asCliError(err).message}\n`);
      }
    }
    if (f.json) ctx.stdout.write(`${JSON.stringify({ downloads: done, failures }, null, 2)}\n`);
    if (!f.quiet && list.length > 1)
      ctx.stderr.write(
        `sluice fetch: ${done.length} of ${list.length} downloaded${failures.length ? `, ${failures.length} FAILED` : ''}\n`,
      );
    if (failures.length) ctx.exitCode = 1;
  }

  async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of ctx.stdin ?? process.stdin) chunks.push(Buffer.from(c as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
};

function describe(summary: FetchSummary): string {
  const what =
    summary.mode === 'extract'
      ? `${summary.files} files, ${summary.directories} dirs, ${summary.symlinks} symlinks, ${summary.hardlinks} hard links into ${summary.output}`
      : `saved to ${summary.output}`;
  const resumed = summary.resumedFrom ? ` (resumed after ${formatBytes(summary.resumedFrom)})` : '';
  return `fetched ${formatBytes(summary.bytes)}${resumed} in ${summary.seconds.toFixed(2)} s (${summary.mbPerSec} MB/s): ${what}`;
}

/** An error as the one line the CLI prints. */
function asCliError(err: unknown): CliError {
  if (err instanceof CliError) return err;
  if (err instanceof SluiceError) return new CliError(err.message, 1, { cause: err });
  const e = err as NodeJS.ErrnoException;
  if (e?.code && e.path) return new CliError(`${e.path}: ${e.message}`, 1, { cause: err });
  return new CliError(e?.message ?? String(err), 1, { cause: err });
}

/** What --json prints for a download that failed. */
function failureJson(url: string, output: FetchOutput, err: unknown) {
  const e = err as { code?: unknown; message?: string };
  return {
    source: url,
    output: output.kind === 'extract' ? output.dest : output.kind === 'file' ? output.path : '-',
    mode: output.kind,
    error: {
      code: typeof e?.code === 'string' ? e.code : 'FETCH_FAILED',
      message: asCliError(err).message,
    },
  };
}
