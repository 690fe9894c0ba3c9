// Collects per-item failures and counts, and turns them into the summary every operation returns.

import { newCounters, type ProgressCounters } from './progress.ts';
import type { IoFailure, IoSummary } from './types.ts';

/** A Node system error or an S3/Sluice error, as one line a user can act on. */
export function describeError(err: unknown): { message: string; code?: string } {
  const e = err as NodeJS.ErrnoException & { code?: string };
  if (e && typeof e === 'object') {
    const code = typeof e.code === 'string' ? e.code : undefined;
    // Node's messages repeat the path ("ENOENT: no such file or directory, open '/x'"): keep the
    // reason, the item's path is reported next to it anyway.
    const message = (e.message ?? String(err)).replace(/, \w+ '.*'( -> '.*')?$/, '');
    return code ? { message, code } : { message };
  }
  return { message: String(err) };
}

/** One line per action a command took (`--log-file`): a copy, a symlink, a deletion, a failure. */
export type ActionLog = (line: string) => void;

export class IoTally {
  readonly failures: IoFailure[] = [];
  /** Where each action is written as it happens (`--log-file`); absent: nowhere. */
  log?: ActionLog;
  directories = 0;
  symlinks = 0;
  skipped = 0;
  private readonly t0 = performance.now();

  constructor(
    readonly operation: IoSummary['operation'],
    readonly counters: ProgressCounters = newCounters(),
  ) {}

  fail(path: string, err: unknown): void {
    const failure = { path, ...describeError(err) };
    this.failures.push(failure);
    this.counters.failed++;
    this.log?.(`fail ${path}: ${failure.message}`);
  }

  /** A file was copied (counted, and logged with both ends). */
  copied(from: string, to: string, bytes: number): void {
    this.fileDone(bytes);
    this.log?.(`copy ${from} -> ${to} (${bytes} bytes)`);
  }

  /** A symlink was recreated. */
  linked(from: string, to: string): void {
    this.symlinks++;
    this.log?.(`link ${from} -> ${to}`);
  }

  /** Items discovered by the walk: the progress line's total (and so its ETA) grows with it. */
  found(n = 1): void {
    this.counters.totalFiles = (this.counters.totalFiles ?? 0) + n;
  }

  /** A found file left alone (--update): it no longer counts towards the progress total. */
  skipFile(): void {
    this.skipped++;
    if (this.counters.totalFiles) this.counters.totalFiles--;
  }

  fileDone(bytes: number): void {
    this.counters.files++;
    this.counters.bytes += bytes;
  }

  summary(output?: string): IoSummary {
    return {
      operation: this.operation,
      files: this.counters.files,
      directories: this.directories,
      symlinks: this.symlinks,
      skipped: this.skipped,
      bytes: this.counters.bytes,
      seconds: Math.round(performance.now() - this.t0) / 1000,
      failures: this.failures,
      ...(output === undefined ? {} : { output }),
    };
  }
}
