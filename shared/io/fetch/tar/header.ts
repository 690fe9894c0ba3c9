// One 512-byte tar header block: ustar (POSIX), GNU (base-256 sizes, its "ustar  " magic) and v7.
// Pure decoding; which names are acceptable is decided in safe-path.ts.
import { ArchiveError } from '../errors.ts';

export type EntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'chardev'
  | 'blockdev'
  | 'directory'
  | 'fifo'
  | 'pax'
  | 'paxGlobal'
  | 'gnuLongName'
  | 'gnuLongLink'
  | 'unsupported';

export interface TarHeader {
  name: string;
  linkname: string;
  mode: number;
  size: number;
  /** Seconds since the epoch (fractional with pax). */
  mtime: number;
  typeflag: string;
  type: EntryType;
}

const TYPES: Record<string, EntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a regular file everywhere that matters
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'directory',
  D: 'directory', // GNU dumpdir: a directory followed by a listing we do not need
  '6': 'fifo',
  x: 'pax',
  g: 'paxGlobal',
  L: 'gnuLongName',
  K: 'gnuLongLink',
};

function text(b: Buffer, off: number, len: number): string {
  let end = off;
  const max = off + len;
  while (end < max && b[end] !== 0) end++;
  return b.toString('utf8', off, end);
}

/** Octal ASCII, or GNU base-256 (high bit of the first byte set) for values that do not fit. */
export function readNumber(b: Buffer, off: number, len: number, field: string, at: number): number {
  const first = b[off]!;
  if (first & 0x80) {
    let v = first & 0x3f; // 0x40 would be the sign: negative values are rejected below
    if (first & 0x40) throw new ArchiveError(`tar header at byte ${at}: negative ${field}`, 'BAD_TAR_HEADER');
    for (let i = 1; i < len; i++) v = v * 256 + b[off + i]!;
    if (!Number.isSafeInteger(v))
      throw new ArchiveError(`tar header at byte ${at}: ${field} too large`, 'BAD_TAR_HEADER');
    return v;
  }
  let v = 0;
  let i = off;
  const end = off + len;
  while (i < end && (b[i] === 0x20 || b[i] === 0)) i++; // leading spaces (and NULs in some writers)
  for (; i < end; i++) {
    const c = b[i]!;
    if (c === 0 || c === 0x20) break;
    if (c < 0x30 || c > 0x37)
      throw new ArchiveError(`tar header at byte ${at}: ${field} is not an octal number`, 'BAD_TAR_HEADER');
    v = v * 8 + (c - 0x30);
  }
  return v;
}

export function isZeroBlock(b: Buffer, off: number): boolean {
  for (let i = off; i < off + 512; i++) if (b[i] !== 0) return false;
  return true;
}

function checksumOk(b: Buffer, off: number, at: number): boolean {
  const stored = readNumber(b, off + 148, 8, 'checksum', at);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const c = i >= 148 && i < 156 ? 32 : b[off + i]!;
    unsigned += c;
    signed += c > 127 ? c - 256 : c; // some historic writers summed signed chars
  }
  return stored === unsigned || stored === signed;
}

/** Decodes the header at `b[off..off+512)`; `at` is its position in the stream (for messages). */
export function parseHeader(b: Buffer, off: number, at: number): TarHeader {
  if (!checksumOk(b, off, at))
    throw new ArchiveError(
      `not a valid tar header at byte ${at} (checksum mismatch): corrupt or not a tar archive`,
      'BAD_TAR_HEADER',
    );
  const typeflag = String.fromCharCode(b[off + 156]!);
  let name = text(b, off, 100);
  const magic = b.toString('latin1', off + 257, off + 263);
  // POSIX ustar has a 155-byte prefix; GNU's "ustar  " uses those bytes for other things.
  if (magic === 'ustar\0' || magic === 'ustar0') {
    const prefix = text(b, off + 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    linkname: text(b, off + 157, 100),
    mode: readNumber(b, off + 100, 8, 'mode', at) & 0o7777,
    size: readNumber(b, off + 124, 12, 'size', at),
    mtime: readNumber(b, off + 136, 12, 'mtime', at),
    typeflag,
    type: TYPES[typeflag] ?? 'unsupported',
  };
}

/** Pax extended header records: "LEN key=value\n" repeated. */
export function parsePax(body: Buffer, at: number): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 0;
  while (p < body.length) {
    if (body[p] === 0) break; // padding some writers leave
    const sp = body.indexOf(0x20, p);
    const len = Number(body.toString('latin1', p, sp));
    if (sp < 0 || !Number.isInteger(len) || len <= 0 || p + len > body.length)
      throw new ArchiveError(`malformed pax header at byte ${at}`, 'BAD_TAR_HEADER');
    const rec = body.toString('utf8', sp + 1, p + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) out[rec.slice(0, eq)] = rec.slice(eq + 1);
    p += len;
  }
  return out;
}
