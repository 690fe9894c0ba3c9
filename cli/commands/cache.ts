// `sluice cache serve|stats|clear`: parses flags and runs shared/cache — the read-through cache in
// front of S3 and HTTP(S) origins — composing in the AWS signer for its S3 upstream.
import path from 'node:path';
import type { Command } from 'commander';
import {
  CACHE_DEFAULTS,
  CacheError,
  clearCacheDir,
  defaultCacheDir,
  dirUsage,
  liveServer,
  MAX_BLOCK_SIZE,
  MIN_BLOCK_SIZE,
  startCacheServer,
} from '../../shared/cache/index.ts';
import { formatBytes, parseSize } from '../../shared/io/size.ts';
import type { CliContext } from '../context.ts';
import { CliError } from '../errors.ts';
import type { RegisterCommand } from './index.ts';
import { collect } from './io-common.ts';

interface ServeFlags {
  dir?: string;
  maxSize: string;
  blockSize: string;
  host: string;
  port: string;
  metaTtl: string;
  readAhead: string;
  originFetches: string;
  denyBucket?: string[];
  quiet?: boolean;
}

const usage = (message: string) => new CliError(message, 2);

function size(v: string, flag: string): number {
  try {
    return parseSize(v, flag);
  } catch (err) {
    throw usage((err as Error).message);
  }
}

function int(v: string, flag: string, min: number, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw usage(`${flag} must be an integer from ${min} to ${max} (got "${v}")`);
  return n;
}

const dirOf = (ctx: CliContext, dir: string | undefined) =>
  path.resolve(ctx.cwd, dir ?? defaultCacheDir(ctx.env));

async function serve(ctx: CliContext, f: ServeFlags): Promise<void> {
  const blockSize = size(f.blockSize, '--block-size');
  if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE)
    throw usage(`--block-size must be from ${formatBytes(MIN_BLOCK_SIZE)} to ${formatBytes(MAX_BLOCK_SIZE)}`);
  const maxSize = size(f.maxSize, '--max-size');
  if (maxSize < blockSize) throw usage('--max-size must be at least --block-size');
  const port = int(f.port, '--port', 0, 65535);
  const metaTtl = Number(f.metaTtl);
  if (!(metaTtl >= 0) || !Number.isFinite(metaTtl))
    throw usage(`--meta-ttl must be a number of seconds >= 0 (got "${f.metaTtl}")`);
  const readAhead = int(f.readAhead, '--read-ahead', 0, 64);
  const originFetches = int(f.originFetches, '--origin-fetches', 1, 1024);
  const dir = dirOf(ctx, f.dir);
  const { createS3UpstreamSigner } = await import('../../shared/adapters/aws/s3-upstream-signer.ts');
  const s3 = createS3UpstreamSigner(ctx.env);
  const log = (line: string) => {
    if (!f.quiet) ctx.stderr.write(`sluice ${line}\n`);
  };
  let server: Awaited<ReturnType<typeof startCacheServer>>;
  try {
    server = await startCacheServer(
      {
        dir,
        maxSize,
        blockSize,
        host: f.host,
        port,
        metaTtlMs: metaTtl * 1000,
        readAhead,
        originFetches,
        ...(f.denyBucket?.length ? { deniedBuckets: f.denyBucket } : {}),
        log,
      },
      { s3 },
    );
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof CacheError) throw new CliError(err.message, 1, { cause: err });
    if (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES')
      throw new CliError(`cannot listen on ${f.host}:${port}: ${e.code}`, 1, { cause: err });
    if (e.code && e.path) throw new CliError(`${e.path}: ${e.code}`, 1, { cause: err });
    throw err;
  }
  ctx.stdout.write(`${server.url}\n`);
  const s = server.stats();
  log(
    `cache: serving ${dir} (${formatBytes(s.sizeOnDisk)} of ${formatBytes(maxSize)} in ${s.blocks} blocks of ${formatBytes(blockSize)}) at ${server.url}; S3 origin ${s3.origin}, HTTP(S) origins under ${server.url}/http(s)/HOST/...; Ctrl-C stops`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
}

async function stats(ctx: CliContext, f: { dir?: string; json?: boolean }): Promise<void> {
  const dir = dirOf(ctx, f.dir);
  const live = await liveServer(dir);
  let counters: Record<string, unknown> | undefined;
  if (live?.url) {
    try {
      counters = (await (await fetch(`${live.url}/-/stats`)).json()) as Record<string, unknown>;
    } catch {
      // The server is starting or stopping: the directory still answers.
    }
  }
  const disk = await dirUsage(dir).catch((err: Error) => {
    throw new CliError(err.message, 1, { cause: err });
  });
  const out = { dir, ...disk, server: live ? { pid: live.pid, url: live.url, ...counters } : null };
  if (f.json) {
    ctx.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const lines = [
    `${dir}: ${formatBytes(disk.bytes)} in ${disk.blocks} blocks of ${disk.objects} objects${disk.temporary ? `, ${disk.temporary} temporary files` : ''}`,
  ];
  if (!live) lines.push('no cache server is running on it');
  else if (!counters) lines.push(`served by pid ${live.pid} at ${live.url} (no answer)`);
  else {
    const c = counters as Record<string, number>;
    lines.push(
      `served by pid ${live.pid} at ${live.url}: ${c.hits} hits, ${c.misses} misses, ${c.coalesced} coalesced, ${c.readAheads} read ahead; ${formatBytes(c.bytesFromCache ?? 0)} from cache, ${formatBytes(c.bytesFromOrigin ?? 0)} from origins; ${c.evictions} evictions${counters.degraded ? '; DISK FULL: passing reads through' : ''}`,
    );
  }
  ctx.stdout.write(`${lines.join('\n')}\n`);
}

async function clear(ctx: CliContext, f: { dir?: string }): Promise<void> {
  const dir = dirOf(ctx, f.dir);
  const live = await liveServer(dir);
  if (live?.url) {
    const res = await fetch(`${live.url}/-/clear`, { method: 'POST' }).catch(() => undefined);
    if (!res?.ok)
      throw new CliError(`the cache server on ${dir} (pid ${live.pid}, ${live.url}) did not clear`);
    const { cleared } = (await res.json()) as { cleared: { blocks: number; bytes: number } };
    ctx.stderr.write(
      `sluice cache: cleared ${cleared.blocks} blocks (${formatBytes(cleared.bytes)}) through pid ${live.pid}\n`,
    );
    return;
  }
  try {
    const u = await clearCacheDir(dir);
    ctx.stderr.write(`sluice cache: cleared ${u.blocks} blocks (${formatBytes(u.bytes)}) from ${dir}\n`);
  } catch (err) {
    throw new CliError((err as Error).message, 1, { cause: err });
  }
}

export const registerCache: RegisterCommand = (program: Command, ctx: CliContext) => {
  const cache = program
    .command('cache')
    .summary('a read-through block cache in front of S3 and HTTP(S) datasets')
    .description(
      'A local read-through cache for datasets read again and again. Point S3 clients at it (AWS_ENDPOINT_URL_S3=URL, path style) or fetch http(s) URLs as URL/http(s)/HOST/PATH: objects are cached in fixed blocks keyed by object and version (ETag/Last-Modified), ranges fetch only the blocks they lack, concurrent readers of a block make one origin request, the directory stays under --max-size (least recently used blocks evicted), and a crash never serves a half-written block. See docs/cache.md.',
    );
  cache
    .command('serve')
    .description(
      'serve the cache until interrupted; prints its base URL as the first line on stdout. Upstream S3 requests are signed with this process’s AWS credentials and endpoint (AWS_ENDPOINT_URL_S3, AWS_REGION, keys or profile)',
    )
    .option('--dir <dir>', 'cache directory (default: $SLUICE_CACHE_DIR, else ~/.cache/sluice)')
    .option('--max-size <size>', 'upper bound of the directory, e.g. 50G', '10G')
    .option('--block-size <size>', 'bytes per cached block', '8M')
    .option(
      '--host <host>',
      'address to listen on (anyone who reaches it reads with the cache’s credentials)',
      CACHE_DEFAULTS.host,
    )
    .option('--port <port>', 'TCP port (0 = any free port)', String(CACHE_DEFAULTS.port))
    .option(
      '--meta-ttl <seconds>',
      'how long HEAD answers and listings are trusted',
      String(CACHE_DEFAULTS.metaTtlSeconds),
    )
    .option(
      '--read-ahead <blocks>',
      'blocks fetched ahead of a sequential reader',
      String(CACHE_DEFAULTS.readAhead),
    )
    .option(
      '--origin-fetches <n>',
      'block fetches to origins in flight at once',
      String(CACHE_DEFAULTS.originFetches),
    )
    .option(
      '--deny-bucket <bucket>',
      'refuse every request for this S3 bucket with 403 (repeatable)',
      collect,
    )
    .option('-q, --quiet', 'no log lines on stderr')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  sluice cache serve --dir /scratch/cache --max-size 100G --port 9000\n' +
        '  AWS_ENDPOINT_URL_S3=http://127.0.0.1:9000 aws s3 cp s3://datasets/train.tar .   (path style)\n' +
        '  curl -r 0-1023 http://127.0.0.1:9000/https/example.com/data/part-0001.bin\n' +
        '  curl http://127.0.0.1:9000/-/stats\n',
    )
    .action((f: ServeFlags) => serve(ctx, f));
  cache
    .command('stats')
    .description('show what a cache directory holds, and the counters of the server using it')
    .option('--dir <dir>', 'cache directory (default: $SLUICE_CACHE_DIR, else ~/.cache/sluice)')
    .option('--json', 'print JSON')
    .action((f: { dir?: string; json?: boolean }) => stats(ctx, f));
  cache
    .command('clear')
    .description('delete every cached block (through the running server, if there is one)')
    .option('--dir <dir>', 'cache directory (default: $SLUICE_CACHE_DIR, else ~/.cache/sluice)')
    .action((f: { dir?: string }) => clear(ctx, f));
};
