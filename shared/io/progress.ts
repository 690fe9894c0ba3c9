// Live progress for long IO work: counters the operation bumps, and a reporter that redraws one
// line on a TTY (files, bytes, files/s, MB/s, ETA) and prints nothing otherwise.
import type { Writable } from 'node:stream';
import { formatBytes } from './size.ts';

export interface ProgressCounters {
  files: number;
  bytes: number;
  failed: number;
  /** Totals when known (after the walk finished), for the ETA. */
  totalFiles?: number;
  totalBytes?: number;
}

export function newCounters(): ProgressCounters {
  return { files: 0, bytes: 0, failed: 0 };
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

export function formatProgress(label: string, c: ProgressCounters, elapsedMs: number): string {
  const secs = Math.max(elapsedMs / 1000, 1e-3);
  const fps = c.files / secs;
  const bps = c.bytes / secs;
  let rest = '';
  if (c.totalBytes && bps > 0) rest = ` ETA ${eta((c.totalBytes - c.bytes) / bps)}`;
  else if (c.totalFiles && fps > 0) rest = ` ETA ${eta((c.totalFiles - c.files) / fps)}`;
  const of = c.totalFiles ? `/${c.totalFiles}` : '';
  const failed = c.failed ? `, ${c.failed} failed` : '';
  return `${label}: ${c.files}${of} files, ${formatBytes(c.bytes)}, ${fps.toFixed(0)} files/s, ${(bps / 1e6).toFixed(1)} MB/s${rest}${failed}`;
}

/** Redraws a progress line every `intervalMs` while enabled; `stop()` clears it. */
export function startProgress(
  out: Writable,
  enabled: boolean,
  label: string,
  counters: ProgressCounters,
  intervalMs = 250,
): { stop(): void } {
  if (!enabled) return { stop() {} };
  const t0 = Date.now();
  const draw = () => out.write(`\r\x1b[2K${formatProgress(label, counters, Date.now() - t0)}`);
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      out.write('\r\x1b[2K');
    },
  };
}
