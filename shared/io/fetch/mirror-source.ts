// Several mirrors of one file as one ByteSource (`sluice fetch URL MIRROR...`, `--mirror`): each
// ranged request goes to the next live mirror in turn, so the chunks are spread across them; a
// mirror that cannot serve (unreachable, 404, another size, changed, or failing three times in a
// row) is dropped and its requests go to the others. Every mirror is checked against its own
// validators (ETags differ between servers); all must agree on the size.
import type { Readable } from 'node:stream';
import { FetchError } from './errors.ts';
import type { ByteRange, ByteSource, SourceInfo } from './source.ts';

interface Mirror {
  source: ByteSource & { close?(): void };
  info?: SourceInfo;
  alive: boolean;
  failures: number;
}

const MAX_CONSECUTIVE_FAILURES = 3;

export class MirrorSource implements ByteSource {
  readonly name: string;
  private readonly mirrors: Mirror[];
  private turn = 0;

  constructor(
    sources: (ByteSource & { close?(): void })[],
    private readonly log: (line: string) => void = () => {},
  ) {
    if (sources.length === 0) throw new RangeError('MirrorSource needs at least one source');
    this.name = sources[0]!.name;
    this.mirrors = sources.map((source) => ({ source, alive: true, failures: 0 }));
  }

  /** The mirrors still in use (for the summary). */
  get live(): string[] {
    return this.mirrors.filter((m) => m.alive).map((m) => m.source.name);
  }

  private drop(m: Mirror, why: string): void {
    if (!m.alive) return;
    m.alive = false;
    this.log(`dropping mirror ${m.source.name}: ${why}`);
  }

  async probe(signal: AbortSignal): Promise<SourceInfo> {
    const answers = await Promise.allSettled(this.mirrors.map((m) => m.source.probe(signal)));
    let first: SourceInfo | undefined;
    let firstError: unknown;
    for (const [i, a] of answers.entries()) {
      const m = this.mirrors[i]!;
      if (a.status === 'rejected') {
        firstError ??= a.reason;
        this.drop(m, (a.reason as Error)?.message ?? String(a.reason));
        continue;
      }
      m.info = a.value;
      if (!first) {
        first = a.value;
        continue;
      }
      // Ranges are what mirrors are for; a mirror that cannot serve them, or disagrees on the
      // size, is not the same file.
      if (!a.value.ranges) this.drop(m, 'no range support');
      else if (a.value.size !== first.size) this.drop(m, `size ${a.value.size} differs from ${first.size}`);
    }
    if (!first) throw firstError;
    if (!first.ranges) {
      for (const m of this.mirrors.slice(1)) this.drop(m, `${this.name} has no range support`);
    }
    return first;
  }

  async open(range: ByteRange | undefined, _expect: SourceInfo, signal: AbortSignal): Promise<Readable> {
    for (;;) {
      const live = this.mirrors.filter((m) => m.alive);
      if (live.length === 0) throw new FetchError(`${this.name}: every mirror failed`, 'ALL_MIRRORS_FAILED');
      const m = live[this.turn++ % live.length]!;
      try {
        const body = await m.source.open(range, m.info ?? _expect, signal);
        m.failures = 0;
        return body;
      } catch (err) {
        if (signal.aborted) throw err;
        const e = err as Error & { retryable?: boolean };
        m.failures++;
        const last = live.length === 1;
        if (!e.retryable) {
          if (last) throw err;
          this.drop(m, e.message);
        } else if (m.failures >= MAX_CONSECUTIVE_FAILURES && !last) {
          this.drop(m, `${m.failures} failures in a row (${e.message})`);
        } else throw err;
      }
    }
  }

  close(): void {
    for (const m of this.mirrors) m.source.close?.();
  }
}

/** The bytes of `inner` from `offset` on, as a source of its own (`fetch -c` resumes with it). */
export class OffsetSource implements ByteSource {
  readonly name: string;
  constructor(
    private readonly inner: ByteSource,
    private readonly offset: number,
    private readonly innerInfo: SourceInfo,
  ) {
    this.name = inner.name;
  }

  async probe(): Promise<SourceInfo> {
    return this.info();
  }

  info(): SourceInfo {
    const { size, ...rest } = this.innerInfo;
    return { ...rest, size: size === undefined ? undefined : size - this.offset, ranges: true, digests: [] };
  }

  open(range: ByteRange | undefined, _expect: SourceInfo, signal: AbortSignal): Promise<Readable> {
    const end = (this.innerInfo.size ?? 0) - 1;
    const shifted = range
      ? { start: range.start + this.offset, end: range.end + this.offset }
      : { start: this.offset, end };
    return this.inner.open(shifted, this.innerInfo, signal);
  }
}
