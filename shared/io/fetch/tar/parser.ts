// TarParser: a push parser over the decompressed stream. Each `write(chunk)` yields entry starts,
// body pieces (views into the chunk: no copies) and entry ends. Pax and GNU long-name records are
// folded into the entry they describe; end() reports an archive cut short.
import { ArchiveError } from '../errors.ts';
import { type EntryType, isZeroBlock, parseHeader, parsePax } from './header.ts';

export interface TarEntry {
  path: string;
  linkpath: string;
  type: EntryType;
  typeflag: string;
  mode: number;
  size: number;
  mtime: number;
  /** Stream offset of the entry's header, for messages. */
  offset: number;
}

export type TarEvent = { kind: 'entry'; entry: TarEntry } | { kind: 'data'; data: Buffer } | { kind: 'end' };

/** Longest pax or GNU long-name record we hold in memory (a name, not a payload). */
const MAX_META = 1 << 20;

type State = 'header' | 'body' | 'meta' | 'padding' | 'done';

export class TarParser {
  private state: State = 'header';
  private pos = 0;
  /** A header split across two chunks. */
  private readonly carry = Buffer.alloc(512);
  private carried = 0;
  private remaining = 0;
  private padding = 0;
  private metaType: EntryType = 'pax';
  private metaParts: Buffer[] = [];
  private metaAt = 0;
  private pax: Record<string, string> = {};
  private globalPax: Record<string, string> = {};
  private longName: string | undefined;
  private longLink: string | undefined;

  /** True once the end-of-archive marker was read. */
  get finished(): boolean {
    return this.state === 'done';
  }

  *write(chunk: Buffer): Generator<TarEvent> {
    let off = 0;
    const n = chunk.length;
    while (off < n) {
      switch (this.state) {
        case 'done':
          this.pos += n - off;
          return; // trailing zero blocks / record padding
        case 'header': {
          let block: Buffer;
          let boff: number;
          if (this.carried === 0 && n - off >= 512) {
            block = chunk;
            boff = off;
            off += 512;
          } else {
            const k = Math.min(512 - this.carried, n - off);
            chunk.copy(this.carry, this.carried, off, off + k);
            this.carried += k;
            off += k;
            if (this.carried < 512) return;
            this.carried = 0;
            block = this.carry;
            boff = 0;
          }
          const at = this.pos;
          this.pos += 512;
          if (isZeroBlock(block, boff)) {
            this.state = 'done';
            continue;
          }
          const ev = this.header(block, boff, at);
          if (ev) yield ev;
          if (this.state === 'header' && ev) yield { kind: 'end' };
          break;
        }
        case 'body': {
          const k = Math.min(this.remaining, n - off);
          yield { kind: 'data', data: chunk.subarray(off, off + k) };
          off += k;
          this.pos += k;
          this.remaining -= k;
          if (this.remaining === 0) {
            this.state = this.padding ? 'padding' : 'header';
            yield { kind: 'end' };
          }
          break;
        }
        case 'meta': {
          const k = Math.min(this.remaining, n - off);
          this.metaParts.push(Buffer.from(chunk.subarray(off, off + k)));
          off += k;
          this.pos += k;
          this.remaining -= k;
          if (this.remaining === 0) {
            this.meta(Buffer.concat(this.metaParts));
            this.metaParts = [];
            this.state = this.padding ? 'padding' : 'header';
          }
          break;
        }
        case 'padding': {
          const k = Math.min(this.padding, n - off);
          off += k;
          this.pos += k;
          this.padding -= k;
          if (this.padding === 0) this.state = 'header';
          break;
        }
      }
    }
  }

  /** Handles one header; returns the entry event for real entries, undefined for meta records. */
  private header(block: Buffer, boff: number, at: number): TarEvent | undefined {
    const h = parseHeader(block, boff, at);
    this.padding = (512 - (h.size % 512)) % 512;
    if (h.type === 'pax' || h.type === 'paxGlobal' || h.type === 'gnuLongName' || h.type === 'gnuLongLink') {
      if (h.size > MAX_META)
        throw new ArchiveError(
          `${h.type} record at byte ${at} is too large (${h.size} bytes)`,
          'BAD_TAR_HEADER',
        );
      this.metaType = h.type;
      this.metaAt = at;
      this.remaining = h.size;
      this.state = h.size ? 'meta' : 'header';
      if (!h.size) this.meta(Buffer.alloc(0));
      return undefined;
    }
    const pax = { ...this.globalPax, ...this.pax };
    const entry: TarEntry = {
      path: pax.path ?? this.longName ?? h.name,
      linkpath: pax.linkpath ?? this.longLink ?? h.linkname,
      type: h.type,
      typeflag: h.typeflag,
      mode: h.mode,
      size: pax.size !== undefined ? Number(pax.size) : h.size,
      mtime: pax.mtime !== undefined ? Number(pax.mtime) : h.mtime,
      offset: at,
    };
    if (!Number.isSafeInteger(entry.size) || entry.size < 0)
      throw new ArchiveError(`tar entry "${entry.path}" at byte ${at} has an invalid size`, 'BAD_TAR_HEADER');
    if (!Number.isFinite(entry.mtime)) entry.mtime = h.mtime;
    this.pax = {};
    this.longName = undefined;
    this.longLink = undefined;
    // Links, devices and directories carry no data even if a header says otherwise (GNU dumpdir does).
    const bodySize = entry.type === 'hardlink' || entry.type === 'symlink' ? 0 : entry.size;
    if (entry.type === 'hardlink' || entry.type === 'symlink') entry.size = 0;
    this.padding = (512 - (bodySize % 512)) % 512;
    this.remaining = bodySize;
    this.state = bodySize ? 'body' : 'header';
    return { kind: 'entry', entry };
  }

  private meta(body: Buffer): void {
    const nameOf = (b: Buffer) => {
      const z = b.indexOf(0);
      return b.toString('utf8', 0, z < 0 ? b.length : z);
    };
    switch (this.metaType) {
      case 'pax':
        Object.assign(this.pax, parsePax(body, this.metaAt));
        break;
      case 'paxGlobal':
        Object.assign(this.globalPax, parsePax(body, this.metaAt));
        break;
      case 'gnuLongName':
        this.longName = nameOf(body);
        break;
      case 'gnuLongLink':
        this.longLink = nameOf(body);
        break;
    }
  }

  /** Call when the input ended: an archive cut short is an error, never a silent partial result. */
  end(): void {
    if (this.state === 'done') return;
    if (this.state === 'header' && this.carried === 0 && this.pos > 0)
      throw new ArchiveError(
        `the tar archive is truncated: it ends at byte ${this.pos} without the end-of-archive marker`,
        'TRUNCATED',
      );
    if (this.pos === 0 && this.carried === 0) throw new ArchiveError('the archive is empty', 'TRUNCATED');
    throw new ArchiveError(
      `the tar archive is truncated at byte ${this.pos + this.carried} (inside an entry)`,
      'TRUNCATED',
    );
  }
}
