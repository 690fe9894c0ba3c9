import { describe, expect, it } from 'vitest';
import {
  centralRecord,
  dosDateTime,
  endRecords,
  localHeader,
  METHOD_STORED,
} from '../../../shared/io/zip-format.ts';

const GiB = 1024 ** 3;

describe('zip-format', () => {
  it('puts sizes and offsets of 4 GiB and more in a zip64 extra field (only those that overflow)', () => {
    const rec = centralRecord({
      name: 'big.bin',
      mode: 0o100644,
      mtimeMs: Date.UTC(2024, 0, 1),
      method: METHOD_STORED,
      crc: 0x12345678,
      size: 5 * GiB,
      compressedSize: 5 * GiB,
      offset: 6 * GiB,
      dataDescriptor: true,
    });
    expect(rec.readUInt32LE(20)).toBe(0xffffffff); // compressed size
    expect(rec.readUInt32LE(24)).toBe(0xffffffff); // size
    expect(rec.readUInt32LE(42)).toBe(0xffffffff); // offset
    expect(rec.readUInt16LE(6)).toBe(45); // version needed: zip64
    const extra = rec.subarray(46 + 'big.bin'.length);
    expect(extra.readUInt16LE(0)).toBe(0x0001);
    expect(extra.readUInt16LE(2)).toBe(24);
    expect(Number(extra.readBigUInt64LE(4))).toBe(5 * GiB);
    expect(Number(extra.readBigUInt64LE(12))).toBe(5 * GiB);
    expect(Number(extra.readBigUInt64LE(20))).toBe(6 * GiB);
    expect(rec.readUInt32LE(38) >>> 16).toBe(0o100644); // unix mode in the external attributes
  });

  it('writes a small entry without zip64 and with an exact local header', () => {
    const h = localHeader(
      { name: 'a.txt', mode: 0o100644, mtimeMs: Date.UTC(2024, 0, 1) },
      { method: 0, crc: 7, compressedSize: 3, size: 3, dataDescriptor: false, zip64: false },
    );
    expect(h.readUInt32LE(0)).toBe(0x04034b50);
    expect(h.readUInt32LE(14)).toBe(7);
    expect(h.readUInt32LE(18)).toBe(3);
    expect(h.readUInt16LE(6) & 0x0800).toBe(0x0800); // UTF-8 names
  });

  it('adds the zip64 end record and locator only when the count or offsets need them', () => {
    expect(endRecords(10, 100, 50)).toHaveLength(22);
    const big = endRecords(70_000, 100, 50);
    expect(big).toHaveLength(56 + 20 + 22);
    expect(big.readUInt32LE(0)).toBe(0x06064b50);
    expect(big.readUInt32LE(56)).toBe(0x07064b50);
    expect(Number(big.readBigUInt64LE(56 + 8))).toBe(150); // locator points at the zip64 record
  });

  it('clamps DOS dates to 1980..2107', () => {
    expect(dosDateTime(Date.UTC(1970, 0, 1))).toEqual({ date: (1 << 5) | 1, time: 0 });
  });
});
