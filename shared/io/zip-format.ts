// The bytes of a zip file (PKWARE APPNOTE 6.3): local headers, data descriptors, central
// directory records and the end records, with zip64 fields exactly when a size, an offset or the
// entry count needs them. Entries are marked "made by Unix" so unzip/zipinfo/Python read the
// modes, and carry an extended-timestamp field (exact UTC mtime) besides the DOS time.

export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;

const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_UTF8 = 0x0800;
const U32_MAX = 0xffffffff;
const U16_MAX = 0xffff;
const VERSION_MADE_BY = (3 << 8) | 63; // Unix, APPNOTE 6.3
const VERSION_DEFAULT = 20;
const VERSION_ZIP64 = 45;

export interface ZipEntryMeta {
  /** '/'-separated, directories end with '/'. */
  name: string;
  /** Full st_mode (file type bits included). */
  mode: number;
  mtimeMs: number;
}

/** What the central directory needs to know about an entry once its data is written. */
export interface WrittenEntry extends ZipEntryMeta {
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  offset: number;
  dataDescriptor: boolean;
}

export function dosDateTime(mtimeMs: number): { date: number; time: number } {
  const d = new Date(mtimeMs);
  if (d.getFullYear() < 1980) return { date: (1 << 5) | 1, time: 0 };
  if (d.getFullYear() > 2107) return { date: (127 << 9) | (12 << 5) | 31, time: (23 << 11) | (59 << 5) | 29 };
  return {
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | (d.getSeconds() >> 1),
  };
}

function unixSeconds(mtimeMs: number): number {
  return Math.min(Math.max(Math.floor(mtimeMs / 1000), 0), U32_MAX);
}

/** Length of the extended timestamp field (0x5455) with the modification time only. */
const TIMESTAMP_FIELD = 9;

function writeTimestamp(b: Buffer, at: number, mtimeMs: number): void {
  b.writeUInt16LE(0x5455, at);
  b.writeUInt16LE(5, at + 2);
  b.writeUInt8(1, at + 4);
  b.writeUInt32LE(unixSeconds(mtimeMs), at + 5);
}

/** True when a local header must carry zip64 sizes (the entry may reach 4 GiB). */
export function needsZip64Sizes(size: number, method: number): boolean {
  // Deflate can grow incompressible data slightly: leave room.
  return method === METHOD_DEFLATE ? size >= 0xf0000000 : size >= U32_MAX;
}

/**
 * The local file header. With `dataDescriptor`, CRC and sizes are zero here and follow the data;
 * `zip64` puts the sizes in a zip64 extra field (zeros too when they follow the data).
 */
export function localHeader(
  meta: ZipEntryMeta,
  v: {
    method: number;
    crc: number;
    compressedSize: number;
    size: number;
    dataDescriptor: boolean;
    zip64: boolean;
  },
): Buffer {
  // One buffer per header (header, name, zip64 field, timestamp): thousands are written per second.
  const nameLength = Buffer.byteLength(meta.name, 'utf8');
  const extraLength = (v.zip64 ? 20 : 0) + TIMESTAMP_FIELD;
  const h = Buffer.allocUnsafe(30 + nameLength + extraLength);
  const { date, time } = dosDateTime(meta.mtimeMs);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(v.zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 4);
  h.writeUInt16LE(FLAG_UTF8 | (v.dataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 6);
  h.writeUInt16LE(v.method, 8);
  h.writeUInt16LE(time, 10);
  h.writeUInt16LE(date, 12);
  h.writeUInt32LE(v.dataDescriptor ? 0 : v.crc >>> 0, 14);
  h.writeUInt32LE(v.zip64 ? U32_MAX : v.dataDescriptor ? 0 : v.compressedSize, 18);
  h.writeUInt32LE(v.zip64 ? U32_MAX : v.dataDescriptor ? 0 : v.size, 22);
  h.writeUInt16LE(nameLength, 26);
  h.writeUInt16LE(extraLength, 28);
  h.write(meta.name, 30, 'utf8');
  let at = 30 + nameLength;
  if (v.zip64) {
    h.writeUInt16LE(0x0001, at);
    h.writeUInt16LE(16, at + 2);
    h.writeBigUInt64LE(BigInt(v.dataDescriptor ? 0 : v.size), at + 4);
    h.writeBigUInt64LE(BigInt(v.dataDescriptor ? 0 : v.compressedSize), at + 12);
    at += 20;
  }
  writeTimestamp(h, at, meta.mtimeMs);
  return h;
}

export function dataDescriptor(crc: number, compressedSize: number, size: number, zip64: boolean): Buffer {
  const b = Buffer.alloc(zip64 ? 24 : 16);
  b.writeUInt32LE(0x08074b50, 0);
  b.writeUInt32LE(crc >>> 0, 4);
  if (zip64) {
    b.writeBigUInt64LE(BigInt(compressedSize), 8);
    b.writeBigUInt64LE(BigInt(size), 16);
  } else {
    b.writeUInt32LE(compressedSize, 8);
    b.writeUInt32LE(size, 12);
  }
  return b;
}

export function centralRecord(e: WrittenEntry): Buffer {
  // Zip64 extra: only the fields that overflow, in this order.
  const big: number[] = [];
  const overflow = (v: number): number => {
    if (v < U32_MAX) return v;
    big.push(v);
    return U32_MAX;
  };
  const size32 = overflow(e.size);
  const csize32 = overflow(e.compressedSize);
  const off32 = overflow(e.offset);
  const nameLength = Buffer.byteLength(e.name, 'utf8');
  const z64Length = big.length ? 4 + 8 * big.length : 0;
  const extraLength = z64Length + TIMESTAMP_FIELD;
  const h = Buffer.allocUnsafe(46 + nameLength + extraLength);
  const zip64 = big.length > 0 || needsZip64Sizes(e.size, e.method);
  const { date, time } = dosDateTime(e.mtimeMs);
  const isDir = e.name.endsWith('/');
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(VERSION_MADE_BY, 4);
  h.writeUInt16LE(zip64 ? VERSION_ZIP64 : VERSION_DEFAULT, 6);
  h.writeUInt16LE(FLAG_UTF8 | (e.dataDescriptor ? FLAG_DATA_DESCRIPTOR : 0), 8);
  h.writeUInt16LE(e.method, 10);
  h.writeUInt16LE(time, 12);
  h.writeUInt16LE(date, 14);
  h.writeUInt32LE(e.crc >>> 0, 16);
  h.writeUInt32LE(csize32, 20);
  h.writeUInt32LE(size32, 24);
  h.writeUInt16LE(nameLength, 28);
  h.writeUInt16LE(extraLength, 30);
  h.writeUInt16LE(0, 32); // comment
  h.writeUInt16LE(0, 34); // disk
  h.writeUInt16LE(0, 36); // internal attributes
  h.writeUInt32LE((((e.mode & 0xffff) << 16) | (isDir ? 0x10 : 0)) >>> 0, 38);
  h.writeUInt32LE(off32, 42);
  h.write(e.name, 46, 'utf8');
  let at = 46 + nameLength;
  if (big.length) {
    h.writeUInt16LE(0x0001, at);
    h.writeUInt16LE(8 * big.length, at + 2);
    for (const [i, v] of big.entries()) h.writeBigUInt64LE(BigInt(v), at + 4 + 8 * i);
    at += z64Length;
  }
  writeTimestamp(h, at, e.mtimeMs);
  return h;
}

/** The end records: zip64 end record + locator when needed, then the classic end record. */
export function endRecords(count: number, cdOffset: number, cdSize: number): Buffer {
  const zip64 = count >= U16_MAX || cdOffset >= U32_MAX || cdSize >= U32_MAX;
  const parts: Buffer[] = [];
  if (zip64) {
    const r = Buffer.alloc(56);
    r.writeUInt32LE(0x06064b50, 0);
    r.writeBigUInt64LE(44n, 4);
    r.writeUInt16LE(VERSION_MADE_BY, 12);
    r.writeUInt16LE(VERSION_ZIP64, 14);
    r.writeUInt32LE(0, 16);
    r.writeUInt32LE(0, 20);
    r.writeBigUInt64LE(BigInt(count), 24);
    r.writeBigUInt64LE(BigInt(count), 32);
    r.writeBigUInt64LE(BigInt(cdSize), 40);
    r.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeUInt32LE(0, 4);
    loc.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    loc.writeUInt32LE(1, 16);
    parts.push(r, loc);
  }
  const e = Buffer.alloc(22);
  e.writeUInt32LE(0x06054b50, 0);
  e.writeUInt16LE(0, 4);
  e.writeUInt16LE(0, 6);
  e.writeUInt16LE(zip64 ? U16_MAX : count, 8);
  e.writeUInt16LE(zip64 ? U16_MAX : count, 10);
  e.writeUInt32LE(zip64 ? U32_MAX : cdSize, 12);
  e.writeUInt32LE(zip64 ? U32_MAX : cdOffset, 16);
  e.writeUInt16LE(0, 20);
  parts.push(e);
  return Buffer.concat(parts);
}
