// Options, results and shared records of one extraction (TarExtractor and its parts).
import type { BlockRecycler } from '../block-recycler.ts';
import type { TarEntry } from './parser.ts';

export interface ExtractOptions {
  /** Absolute destination directory; created if missing. */
  dest: string;
  stripComponents: number;
  /** Replace existing files (default: refuse). */
  overwrite: boolean;
  /** Keep setuid/setgid bits (default: stripped). */
  preservePermissions: boolean;
  writeWorkers: number;
  /** Body bytes handed to writers but not yet written, at most (back-pressure on the stream). */
  maxPendingBytes: number;
  warn: (line: string) => void;
  /** Progress: a file (or link, dir) is done. */
  onEntry?: () => void;
  /** When the input blocks are pooled: views kept past write() are held, and dropped once written. */
  recycler?: BlockRecycler;
}

export interface ExtractSummary {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  skipped: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

/** A link made at the end: a symlink (target as written), or a hard link to one (target rel). */
export interface DeferredLink {
  rel: string;
  parts: string[];
  entry: TarEntry;
  target: string;
}
