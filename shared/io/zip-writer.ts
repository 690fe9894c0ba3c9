// Writes zip entries one after another into a ZipSink and the central directory at the end.
// Entries whose bytes are already in memory get exact local headers; streamed (large) entries get
// a data descriptor after their data, so nothing has to be rewritten or held whole.
import { crc32, createDeflateRaw } from 'node:zlib';
import {
  centralRecord,
  dataDescriptor,
  endRecords,
  localHeader,
  METHOD_DEFLATE,
  METHOD_STORED,
  needsZip64Sizes,
  type WrittenEntry,
  type ZipEntryMeta,
} from './zip-format.ts';
import type { ZipSink } from './zip-sink.ts';

export class ZipWriter {
  private offset = 0;
  private readonly central: WrittenEntry[] = [];

  constructor(private readonly sink: ZipSink) {}

  get entryCount(): number {
    return this.central.length;
  }

  get bytesWritten(): number {
    return this.offset;
  }

  private async emit(chunks: Buffer[]): Promise<void> {
    await this.sink.write(chunks);
    for (const c of chunks) this.offset += c.length;
  }

  /** An entry whose (possibly compressed) bytes and CRC are known. */
  async addBuffered(
    meta: ZipEntryMeta,
    data: Buffer,
    v: { method: number; crc: number; size: number },
  ): Promise<void> {
    const offset = this.offset;
    const zip64 = needsZip64Sizes(v.size, v.method) || data.length >= 0xffffffff;
    const header = localHeader(meta, { ...v, compressedSize: data.length, dataDescriptor: false, zip64 });
    await this.emit(data.length ? [header, data] : [header]);
    this.central.push({ ...meta, ...v, compressedSize: data.length, offset, dataDescriptor: false });
  }

  addDirectory(meta: ZipEntryMeta): Promise<void> {
    return this.addBuffered(meta, Buffer.alloc(0), { method: METHOD_STORED, crc: 0, size: 0 });
  }

  /**
   * Streams an entry of `size` bytes from `chunks` (CRC computed on the way, deflated if asked);
   * CRC and sizes follow the data in a descriptor.
   */
  async addStreamed(
    meta: ZipEntryMeta,
    chunks: AsyncIterable<Buffer>,
    size: number,
    method: number,
  ): Promise<void> {
    const offset = this.offset;
    const zip64 = needsZip64Sizes(size, method);
    await this.emit([
      localHeader(meta, { method, crc: 0, compressedSize: 0, size, dataDescriptor: true, zip64 }),
    ]);
    let crc = 0;
    let raw = 0;
    let compressed = 0;
    if (method === METHOD_STORED) {
      for await (const c of chunks) {
        crc = crc32(c, crc);
        raw += c.length;
        await this.emit([c]);
      }
      compressed = raw;
    } else {
      const deflate = createDeflateRaw();
      const pump = (async () => {
        for await (const c of chunks) {
          crc = crc32(c, crc);
          raw += c.length;
          if (!deflate.write(c)) await new Promise((r) => deflate.once('drain', r));
        }
        deflate.end();
      })();
      pump.catch((err) => deflate.destroy(err));
      for await (const out of deflate as AsyncIterable<Buffer>) {
        compressed += out.length;
        await this.emit([out]);
      }
      await pump;
    }
    await this.emit([dataDescriptor(crc, compressed, raw, zip64)]);
    this.central.push({
      ...meta,
      method,
      crc,
      size: raw,
      compressedSize: compressed,
      offset,
      dataDescriptor: true,
    });
  }

  /** Writes the central directory and end records, and commits the sink. */
  async finish(): Promise<void> {
    const cdOffset = this.offset;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    for (const e of this.central) {
      const rec = centralRecord(e);
      batch.push(rec);
      batchBytes += rec.length;
      if (batchBytes >= 1 << 20) {
        await this.emit(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length) await this.emit(batch);
    await this.emit([endRecords(this.central.length, cdOffset, this.offset - cdOffset)]);
    await this.sink.commit();
  }
}

export { METHOD_DEFLATE, METHOD_STORED };
