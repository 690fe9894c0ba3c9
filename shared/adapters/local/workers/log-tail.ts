// Bounded capture of a task's output: the last N lines / KB survive, older ones are counted as
// dropped. Also splits a byte stream into lines and spots the hosts' end-of-task markers.

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

/**
 * Splits text chunks into lines. A line containing `marker` ends a task on this stream: the text
 * before the marker (a partial line the task left unterminated) is still a line.
 */
export class LineSplitter {
  private partial = '';

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly marker?: string,
    private readonly onMarker?: () => void,
  ) {}

  feed(chunk: string): void {
    let start = 0;
    let text = chunk;
    if (this.partial) {
      text = this.partial + chunk;
      this.partial = '';
    }
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    if (start < text.length) this.partial = text.slice(start);
  }

  /** Emits an unterminated last line (at end of stream). */
  flush(): void {
    if (!this.partial) return;
    const rest = this.partial;
    this.partial = '';
    this.line(rest);
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
