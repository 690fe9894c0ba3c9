// Bounded capture of a task's output: the last N lines / KB survive, older ones are counted as
// dropped. Also splits a byte stream into lines and spots the hosts' end-of-task markers.
import { type TaskLogs, taskLogs } from '../ports/task-logs.ts';

export class LogTail {
  private lines: string[] = [];
  private bytes = 0;
  private dropped = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  push(line: string): void {
    this.lines.push(line);
    this.bytes += line.length;
    // Trim in bulk (splice at 2x) so a chatty task costs O(1) per line, not O(maxLines).
    if (this.lines.length > 2 * this.maxLines || this.bytes > 2 * this.maxBytes) this.trim();
  }

  /** Whether earlier lines were dropped to stay within the cap. */
  get truncated(): boolean {
    this.trim();
    return this.dropped > 0;
  }

  /** The last `n` lines (for quoting in an error). */
  tail(n: number): string[] {
    this.trim();
    return this.lines.slice(-n);
  }

  /** The kept lines, preceded by a note when some were dropped. */
  toArray(): string[] {
    this.trim();
    return this.dropped > 0
      ? [`[sluice: ${this.dropped} earlier log lines dropped]`, ...this.lines]
      : [...this.lines];
  }

  private trim(): void {
    let drop = Math.max(0, this.lines.length - this.maxLines);
    let bytes = this.bytes;
    for (let i = 0; i < drop; i++) bytes -= this.lines[i]!.length;
    while (bytes > this.maxBytes && drop < this.lines.length - 1) bytes -= this.lines[drop++]!.length;
    if (drop === 0) return;
    this.lines.splice(0, drop);
    this.bytes = bytes;
    this.dropped += drop;
  }
}

/** A task's logs from the tails of its two streams. */
export function tailsToLogs(stdout: LogTail | undefined, stderr: LogTail | undefined): TaskLogs {
  return taskLogs(
    stdout?.toArray() ?? [],
    stderr?.toArray() ?? [],
    (stdout?.truncated ?? false) || (stderr?.truncated ?? false),
  );
}

/**
 * Splits text chunks into lines. A line containing `marker` ends a task on this stream: the text
 * before the marker (a partial line the task left unterminated) is still a line. Only the new
 * chunk is searched for a newline, so a 100 MB result line costs O(size), not O(size^2); with
 * `maxLineLength`, an endless unterminated line is cut into pieces instead of growing forever.
 */
export class LineSplitter {
  private parts: string[] = [];
  private partLength = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly marker?: string,
    private readonly onMarker?: () => void,
    private readonly maxLineLength = Number.POSITIVE_INFINITY,
  ) {}

  feed(chunk: string): void {
    let nl = chunk.indexOf('\n');
    if (nl < 0) {
      this.keep(chunk);
      return;
    }
    let start = 0;
    if (this.parts.length) {
      this.parts.push(chunk.slice(0, nl));
      const first = this.parts.join('');
      this.parts = [];
      this.partLength = 0;
      this.line(first);
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    while (nl >= 0) {
      this.line(chunk.slice(start, nl));
      start = nl + 1;
      nl = chunk.indexOf('\n', start);
    }
    if (start < chunk.length) this.keep(chunk.slice(start));
  }

  /** Emits an unterminated last line (at end of stream). */
  flush(): void {
    if (!this.parts.length) return;
    const rest = this.parts.join('');
    this.parts = [];
    this.partLength = 0;
    this.line(rest);
  }

  private keep(text: string): void {
    this.parts.push(text);
    this.partLength += text.length;
    if (this.partLength <= this.maxLineLength) return;
    // Cut, but keep a marker's length back: the marker may be arriving in pieces.
    const all = this.parts.join('');
    const keepBack = this.marker ? this.marker.length : 0;
    this.line(all.slice(0, all.length - keepBack));
    this.parts = keepBack ? [all.slice(all.length - keepBack)] : [];
    this.partLength = keepBack;
  }

  private line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (this.marker) {
      const at = line.indexOf(this.marker);
      if (at >= 0) {
        if (at > 0) this.onLine(line.slice(0, at));
        this.onMarker?.();
        return;
      }
    }
    this.onLine(line);
  }
}
