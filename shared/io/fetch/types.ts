// Options and results of `sluice fetch` (shared by the CLI, the built-in algorithm and tests).
import type { Writable } from 'node:stream';
import type { ExpectedDigest } from './checksum.ts';
import type { Compression } from './decompress.ts';

export type FetchOutput =
  /** Extract the tar stream into `dest` (created if missing). */
  | { kind: 'extract'; dest: string }
  /** Save the bytes as downloaded (no decompression); lands via a temp file + rename. */
  | { kind: 'file'; path: string }
  /** Write the bytes as downloaded to a stream (stdout). */
  | { kind: 'stream'; stream: Writable };

export interface FetchOptions {
  /** http(s)://, s3://bucket/key, file:// or a local path. */
  url: string;
  output: FetchOutput;
  /** Forced decoder, or 'auto' (default) to sniff the magic bytes. */
  compression?: Compression | 'auto';
  /** Concurrent ranged requests. Default 16. */
  workers?: number;
  /** Bytes per ranged request. Default 4 MiB. */
  chunkSize?: number;
  /** Memory budget for downloaded, decoded and not-yet-written bytes. Default 256 MiB. */
  maxMemory?: number;
  /**
   * curl's --speed-limit: the download fails when slower than this many bytes/s for `speedTime`
   * seconds (a single request that slow for a third of it is reconnected). Default 16 KiB/s; 0 = off.
   */
  speedLimit?: number;
  /** curl's --speed-time, seconds. Default 45. */
  speedTime?: number;
  /** Seconds a request (the first probe too) may wait for its response or go without bytes. Default 30; 0 = off. */
  timeoutSeconds?: number;
  /** Attempts per chunk without progress before failing. Default 5. */
  retries?: number;
  /** First retry delay in ms (doubles). Default 500. */
  backoffMs?: number;
  /** Concurrent file writers when extracting. Default 32. */
  writeWorkers?: number;
  stripComponents?: number;
  overwrite?: boolean;
  preservePermissions?: boolean;
  /** Other URLs of the same file (`--mirror`): chunks are spread across all of them. */
  mirrors?: string[];
  /** Extra request headers for http(s):// URLs (`--header 'K: V'`). */
  headers?: Record<string, string>;
  /**
   * `-c`: with a file output, resume the partial download an earlier run left (when the source's
   * size and ETag/Last-Modified are those it recorded; otherwise start again), and keep the partial
   * file when this run fails too.
   */
  continue?: boolean;
  /** Bytes per second at most (`--limit-rate`, `--bwlimit`). */
  bwlimit?: number;
  /** `--checksum ALG=HEX` (parseChecksum): the whole download must match it. */
  checksum?: ExpectedDigest;
  signal?: AbortSignal;
  /** Warnings (skipped devices, retries) as they happen. */
  log?: (line: string) => void;
}

export interface FetchSummary {
  source: string;
  /** Where the bytes went: the directory, the file, or "-" for a stream. */
  output: string;
  mode: FetchOutput['kind'];
  /** Bytes downloaded (compressed). */
  bytes: number;
  /** Source size when known. */
  size: number | null;
  compression: Compression | null;
  seconds: number;
  /** Download throughput, MB/s (10^6 bytes). */
  mbPerSec: number;
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  skipped: number;
  /** Bytes of file content written by extraction. */
  bytesWritten: number;
  requests: number;
  retries: number;
  /** False when the source had no range support and one stream was used. */
  parallel: boolean;
  /** `-c`: bytes a partial download already had (0 when it started from the beginning). */
  resumedFrom?: number;
  /** With mirrors: those still in use at the end. */
  mirrors?: string[];
  warnings: string[];
}
