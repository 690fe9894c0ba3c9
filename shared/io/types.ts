// Types shared by the bulk IO operations (cp, zip, rm) and their callers (the CLI, the IO algorithms).
import type { ObjectStore } from '../ports/object-store.ts';
import type { VolumeKind } from './local-fs.ts';
import type { ProgressCounters } from './progress.ts';

/** A local path or an s3:// location, as given on a command line. */
export type Location = { kind: 'local'; path: string } | { kind: 's3'; bucket: string; key: string };

/** One item that failed; the operation went on with the rest. */
export interface IoFailure {
  /** The path or s3:// URL of the item. */
  path: string;
  /** What went wrong, in words (includes the errno/S3 code). */
  message: string;
  code?: string;
}

/** What every operation reports when it ends (`--json` prints it; the IO algorithms return it). */
export interface IoSummary {
  operation: 'cp' | 'zip' | 'rm' | 'sync';
  /** Regular files (or objects) copied, zipped or removed. */
  files: number;
  directories: number;
  symlinks: number;
  /** Files left alone by --update because size and mtime already matched. */
  skipped: number;
  bytes: number;
  seconds: number;
  failures: IoFailure[];
  /** Things done differently than asked, which are not failures (a symlink not uploaded to S3). */
  notes?: string[];
  /** Where the result went (cp destination, zip file), when there is one. */
  output?: string;
  /** sync: files, symlinks and directories deleted from the destination. */
  deleted?: number;
  /** --dry-run: nothing was changed; `actions` is what would have been done. */
  dryRun?: boolean;
  actions?: PlannedAction[];
}

/** One thing a --dry-run would have done. */
export type PlannedAction =
  | { action: 'copy'; from: string; to: string; bytes: number }
  | { action: 'delete'; path: string };

/** Options common to cp, zip and rm. */
export interface IoOptions {
  /** Operations in flight (`-j`). */
  jobs?: number;
  /** Bytes of file data in memory at once (`--max-memory`). */
  maxMemory?: number;
  /** Needed for s3:// locations; the caller builds it (shared/io never imports an SDK). */
  store?: ObjectStore;
  /** Live counters for a progress line. */
  progress?: ProgressCounters;
  signal?: AbortSignal;
  /**
   * How to drive local file systems: 'network' keeps `jobs` calls in flight on threads, 'local'
   * makes each call directly (faster on a local disk); 'auto' (default) decides by the
   * file-system type of the local paths involved.
   */
  volume?: VolumeKind;
}
