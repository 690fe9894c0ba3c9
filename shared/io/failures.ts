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

export class IoTally {
  readonly failures: IoFailure[] = [];
  directories = 0;
  symlinks = 0;
  skipped = 0;
  private readonly t0 = performance.now();

  constructor(
    readonly operation: IoSummary['operation'],
    readonly counters: ProgressCounters = newCounters(),
  ) {}

  fail(path: string, err: unknown): void {
    this.failures.push({ path, ...describeError(err) });
    this.counters.failed++;
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
