// `fetch`: the whole pipeline behind `sluice fetch` and the built-in `fetch` algorithm —
// probe the source, download it in parallel ranges (RangeFetcher), then either save the bytes or
// sniff, decompress and extract them (TarExtractor) while they arrive.
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectStores } from '../../ports/object-store.ts';
import { storeForLocations } from '../object-stores.ts';
import type { ProgressCounters } from '../progress.ts';
import { RateLimiter } from '../rate-limit.ts';
import { BlockRecycler } from './block-recycler.ts';
import { verifyDigests } from './checksum.ts';
import { type Compression, decompress, looksLikeTar, peek, sniffCompression } from './decompress.ts';
import { ArchiveError, DestinationExistsError, TransferError } from './errors.ts';
import {
  checkOutputFile,
  type PartialRecord,
  partialPath,
  readPartial,
  removePartial,
  writeOutputFile,
} from './file-output.ts';
import { MirrorSource, OffsetSource } from './mirror-source.ts';
import { openSource } from './open-source.ts';
import { RangeFetcher } from './range-fetcher.ts';
import type { ByteSource, SourceInfo } from './source.ts';
import { TarExtractor } from './tar/extractor.ts';
import { clearIncomplete, INCOMPLETE_MARKER, markIncomplete } from './tar/incomplete-marker.ts';
import type { FetchOptions, FetchSummary } from './types.ts';

const MiB = 1024 * 1024;

export const FETCH_DEFAULTS = {
  workers: 16,
  chunkSize: 4 * MiB,
  maxMemory: 256 * MiB,
  /** curl-like: the download fails when slower than speedLimit bytes/s for speedTime seconds. */
  speedLimit: 16 * 1024,
  speedTime: 45,
  /** Seconds a request may wait for its response headers or go without body bytes. */
  timeoutSeconds: 30,
  retries: 5,
  backoffMs: 500,
  writeWorkers: 32,
} as const;

/** One probe with a deadline: a server that never answers is a retryable TransferError. */
async function probeOnce(source: ByteSource, timeoutMs: number, signal: AbortSignal): Promise<SourceInfo> {
  if (timeoutMs <= 0) return source.probe(signal);
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const timeout = new TransferError(`${source.name}: no answer in ${timeoutMs / 1000} s (--timeout)`);
  const timer = setTimeout(() => ac.abort(timeout), timeoutMs);
  try {
    return await source.probe(ac.signal);
  } catch (err) {
    throw ac.signal.reason === timeout ? timeout : err;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

async function probeWithRetry(
  source: ByteSource,
  opts: Required<Pick<FetchOptions, 'retries' | 'backoffMs' | 'timeoutSeconds'>>,
  signal: AbortSignal,
  log: (s: string) => void,
): Promise<SourceInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await probeOnce(source, opts.timeoutSeconds * 1000, signal);
    } catch (err) {
      const e = err as Error & { retryable?: boolean; retryAfter?: number };
      if (!e.retryable || attempt > opts.retries) throw err;
      const wait =
        e.retryAfter !== undefined
          ? Math.min(e.retryAfter * 1000, 30_000)
          : opts.backoffMs * 2 ** (attempt - 1);
      log(`retrying ${source.name} in ${Math.round(wait)} ms: ${e.message}`);
      await sleep(wait, undefined, { signal });
    }
  }
}

export interface FetchDeps {
  /** Where an s3:// URL's store comes from (the same provider `cp` uses: the fast S3 path). */
  objectStores?: ObjectStores;
  /** Where a relative local path resolves (default: the process's working directory). */
  cwd?: string;
}

/**
 * Copies `input` to `out`. An error of `out` (a full disk, a closed pipe) may come while no one
 * waits on it: it is held by a listener that stays for the whole copy, never left unhandled.
 */
async function writeStream(input: AsyncIterable<Buffer>, out: Writable): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error) => {
    failed ??= err;
  };
  out.on('error', onError);
  try {
    for await (const b of input) {
      if (failed) throw failed;
      if (!out.write(b)) await once(out, 'drain');
    }
    if (failed) throw failed;
  } finally {
    out.off('error', onError);
  }
}

export async function fetchArchive(
  options: FetchOptions,
  deps: FetchDeps = {},
  counters?: ProgressCounters,
): Promise<FetchSummary> {
  const o = { ...FETCH_DEFAULTS, ...stripUndefined(options) };
  const t0 = performance.now();
  const warnings: string[] = [];
  const log = (line: string) => {
    if (warnings.length < 1000) warnings.push(line);
    o.log?.(line);
  };
  // A destination that cannot be written fails before anything is downloaded.
  if (o.output.kind === 'file') await checkOutputFile(o.output.path);
  const { store } = await storeForLocations([o.url], deps.objectStores);
  const abort = new AbortController();
  const onAbort = () => abort.abort(o.signal?.reason);
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const urls = [o.url, ...(o.mirrors ?? [])];
  const sources = urls.map((url) =>
    openSource(url, {
      ...(store ? { objectStore: store } : {}),
      ...(deps.cwd ? { cwd: deps.cwd } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
      maxSockets: o.workers + 4,
    }),
  );
  const mirrors = sources.length > 1 ? new MirrorSource(sources, log) : undefined;
  const source = mirrors ?? sources[0]!;
  let downloaded = 0;
  try {
    const info = await probeWithRetry(source, o, abort.signal, log);
    // -c: what an earlier run left of this file, if the source is still the one it recorded.
    const out0 = o.output;
    const offset =
      out0.kind === 'file' ? await resumeOffset(out0.path, o.url, info, o.continue === true, log) : 0;
    if (counters && info.size !== undefined) counters.totalBytes = info.size - offset;
    // 1/8 of the budget buys read-ahead (parallel requests: 8 chunks of 4 MiB keep 400 MB/s in
    // flight against a 50 MB/s-per-connection server, twice what extraction consumes on two cores;
    // read-ahead counts whole chunks, so smaller chunks buy the same parallelism with less memory);
    // 1/16 holds bodies waiting for writers; the rest covers decoded blocks, writer arenas, the
    // HTTP client's buffers the GC has not handed back yet, and Node itself (~70 MB).
    // Measured, tar.lz4 1.1 GB, --max-memory 256M: peak RSS 300-330 MB; with 1/4 and 1/8 and
    // 8 MiB chunks it was 355-385 MB for the same speed.
    const ranged = offset > 0 ? new OffsetSource(source, offset, info) : undefined;
    const fetcher = new RangeFetcher(ranged ?? source, ranged ? ranged.info() : info, {
      workers: o.workers,
      chunkSize: o.chunkSize,
      maxBuffered: Math.max(o.chunkSize, Math.floor(o.maxMemory / 8)),
      // A request below the limit for a third of --speed-time is reconnected (one bad connection
      // among many); the whole download below it for --speed-time fails.
      minSpeed: o.speedLimit,
      stallMs: Math.max(1000, Math.round((o.speedTime * 1000) / 3)),
      overallStallMs: o.speedTime * 1000,
      timeoutMs: o.timeoutSeconds * 1000,
      retries: o.retries,
      backoffMs: o.backoffMs,
      signal: abort.signal,
      onBytes: (n) => {
        downloaded += n;
        if (counters) counters.bytes += n;
      },
      log,
    });
    // Every digest the user or the server gives is checked as the bytes stream past.
    const digests = [...(o.checksum ? [o.checksum] : []), ...(info.digests ?? [])];
    const paced = o.bwlimit ? new RateLimiter(o.bwlimit).pace(fetcher, abort.signal) : fetcher;
    // A resumed download's digest covers the bytes already on disk: they are read back through it.
    const bytes =
      offset > 0 && digests.length > 0 && out0.kind === 'file'
        ? skipBytes(verifyDigests(prepend(partialPath(out0.path), offset, paced), digests, o.url), offset)
        : verifyDigests(paced, digests, o.url);
    let compression: Compression | null = null;
    let extracted: Awaited<ReturnType<TarExtractor['finish']>> | undefined;
    const out = o.output;
    if (out.kind === 'file') {
      const record: PartialRecord = {
        url: o.url,
        size: info.size ?? -1,
        ...(info.etag ? { etag: info.etag } : {}),
        ...(info.lastModified ? { lastModified: info.lastModified } : {}),
      };
      try {
        await writeOutputFile(bytes, out.path, { offset, keepPartial: o.continue === true, record });
      } catch (err) {
        // Bytes that fail their digest are no base to resume from.
        if ((err as { code?: string }).code === 'CHECKSUM_MISMATCH') await removePartial(out.path);
        throw err;
      }
    } else if (out.kind === 'stream') {
      await writeStream(bytes, out.stream);
    } else {
      const raw = await peek(bytes, 512);
      const sniffed = sniffCompression(raw.head);
      if (sniffed === 'bzip2' || sniffed === 'xz')
        throw new ArchiveError(
          `${o.url} is ${sniffed}-compressed, which sluice fetch does not decode (gzip, lz4, zstd, none)`,
          'UNSUPPORTED_COMPRESSION',
        );
      compression = !o.compression || o.compression === 'auto' ? (sniffed ?? 'none') : o.compression;
      // lz4 blocks come from a pool the extractor gives back to (see BlockRecycler).
      const recycler = compression === 'lz4' ? new BlockRecycler(4 * MiB) : undefined;
      const plain = await peek(decompress(raw.stream, compression, recycler), 512);
      if (!looksLikeTar(plain.head)) {
        const what = compression === 'none' ? 'is not' : `is ${compression}-compressed but does not contain`;
        throw new ArchiveError(`${o.url} ${what} a tar archive (save it with -o FILE instead)`, 'NOT_A_TAR');
      }
      const resuming = await markIncomplete(out.dest, o.url);
      if (resuming)
        log(`${out.dest} holds an unfinished extraction (${INCOMPLETE_MARKER}): replacing what it left`);
      const extractor = new TarExtractor({
        dest: out.dest,
        stripComponents: o.stripComponents ?? 0,
        overwrite: (o.overwrite ?? false) || resuming,
        preservePermissions: o.preservePermissions ?? false,
        writeWorkers: o.writeWorkers,
        maxPendingBytes: Math.max(8 * MiB, Math.floor(o.maxMemory / 16)),
        warn: log,
        ...(recycler ? { recycler } : {}),
        onEntry: () => {
          if (counters) counters.files++;
        },
      });
      try {
        for await (const chunk of plain.stream) await extractor.write(chunk);
        extracted = await extractor.finish();
        await clearIncomplete(out.dest);
      } catch (err) {
        abort.abort(err);
        await extractor.abort(err as Error);
        // Refused because the destination holds files of its own: that is the user's to settle
        // (--overwrite), not a licence for the next run to replace them.
        if (err instanceof DestinationExistsError && !resuming) await clearIncomplete(out.dest);
        throw err;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return {
      source: o.url,
      output: out.kind === 'extract' ? out.dest : out.kind === 'file' ? out.path : '-',
      mode: out.kind,
      bytes: downloaded,
      size: info.size ?? null,
      compression,
      seconds: Number(seconds.toFixed(3)),
      mbPerSec: Number((downloaded / 1e6 / Math.max(seconds, 1e-3)).toFixed(1)),
      files: extracted?.files ?? 0,
      directories: extracted?.directories ?? 0,
      symlinks: extracted?.symlinks ?? 0,
      hardlinks: extracted?.hardlinks ?? 0,
      skipped: extracted?.skipped ?? 0,
      bytesWritten: extracted?.bytes ?? 0,
      requests: fetcher.stats.requests + 1,
      retries: fetcher.stats.retries,
      parallel: fetcher.stats.parallel,
      ...(offset > 0 ? { resumedFrom: offset } : {}),
      ...(mirrors ? { mirrors: mirrors.live } : {}),
      warnings,
    };
  } finally {
    abort.abort(new Error('fetch finished'));
    o.signal?.removeEventListener('abort', onAbort);
    for (const s of sources) s.close?.();
  }
}

/**
 * Where `-c` resumes FILE: the size of its partial download when the source still has the size,
 * ETag and Last-Modified recorded with it (and serves ranges); 0 (start again) otherwise.
 */
async function resumeOffset(
  file: string,
  url: string,
  info: SourceInfo,
  resume: boolean,
  log: (line: string) => void,
): Promise<number> {
  if (!resume) return 0;
  const partial = await readPartial(file);
  if (!partial) return 0;
  const r = partial.record;
  const why =
    !info.ranges || info.size === undefined
      ? 'the source does not serve ranges'
      : r.size !== info.size
        ? `its size changed (${r.size} -> ${info.size})`
        : !r.etag && !r.lastModified
          ? 'the source gave no ETag or Last-Modified to check it against'
          : r.etag !== info.etag
            ? `its ETag changed (${r.etag ?? 'none'} -> ${info.etag ?? 'none'})`
            : r.lastModified !== info.lastModified
              ? `its Last-Modified changed (${r.lastModified ?? 'none'} -> ${info.lastModified ?? 'none'})`
              : partial.bytes > info.size
                ? 'the partial file is longer than the source'
                : undefined;
  if (why) {
    log(`not resuming ${file} from ${url}: ${why}; starting again`);
    await removePartial(file);
    return 0;
  }
  if (r.url !== url) log(`resuming ${file} (started from ${r.url}) from ${url}: same size and validators`);
  return partial.bytes;
}

/** The first `n` bytes of a file, then `rest`. */
async function* prepend(file: string, n: number, rest: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  if (n > 0) for await (const b of createReadStream(file, { start: 0, end: n - 1 })) yield b as Buffer;
  yield* rest;
}

/** `input` without its first `n` bytes. */
async function* skipBytes(input: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let left = n;
  for await (const b of input) {
    if (left >= b.length) {
      left -= b.length;
      continue;
    }
    yield left > 0 ? b.subarray(left) : b;
    left = 0;
  }
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
