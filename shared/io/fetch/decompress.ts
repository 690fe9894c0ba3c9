// Picks the decoder from the stream's first bytes (or --compression) and turns the downloaded
// stream into the archive's plain bytes. gzip and zstd run in zlib on the thread pool; lz4 frames
// in lz4-napi, also off the main thread.
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { BlockRecycler } from './block-recycler.ts';
import { ByteReader } from './byte-reader.ts';
import { ArchiveError, FetchError } from './errors.ts';
import { decodeLz4 } from './lz4-frame-decoder.ts';

export type Compression = 'none' | 'gzip' | 'lz4' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'lz4', 'zstd'];

/** What the first bytes say the stream is; 'unknown' means neither compressed nor obviously tar. */
export function sniffCompression(head: Buffer): Compression | 'bzip2' | 'xz' | undefined {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0x184d2204) return 'lz4';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head.toString('latin1', 0, 6) === '\xfd7zXZ\0') return 'xz';
  return undefined;
}

/** True when a 512-byte block looks like a tar header (ustar magic, or a valid v7 checksum). */
export function looksLikeTar(head: Buffer): boolean {
  if (head.length < 512) return false;
  const magic = head.toString('latin1', 257, 262);
  if (magic === 'ustar') return true;
  const stored = Number.parseInt(
    head
      .toString('latin1', 148, 156)
      .replace(/[\0 ]+$/, '')
      .trim(),
    8,
  );
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : head[i]!;
  return sum === stored;
}

/** Reads enough of the stream to sniff it, and returns the bytes seen plus the whole stream again. */
export async function peek(
  input: AsyncIterable<Buffer>,
  n: number,
): Promise<{ head: Buffer; stream: AsyncIterable<Buffer> }> {
  // Decoded lz4 blocks go back to their pool when the decoder is asked for the next one: what is
  // buffered is copied first (a few hundred bytes at most, when the first block is that short).
  const r = new ByteReader(input[Symbol.asyncIterator](), true);
  await r.fill(n);
  const avail = Math.min(n, r.buffered);
  // take() may consume: rebuild the stream from a copy of the head and the rest.
  const head = Buffer.from(r.take(avail));
  async function* again() {
    if (head.length) yield head;
    yield* r.rest();
  }
  return { head, stream: again() };
}

function zlibStream(
  input: AsyncIterable<Buffer>,
  z: zlib.Gunzip | zlib.Unzip,
  what: string,
): AsyncIterable<Buffer> {
  const src = Readable.from(input, { objectMode: false, highWaterMark: 1 << 20 });
  src.on('error', (err) => z.destroy(err));
  src.pipe(z);
  return (async function* () {
    try {
      for await (const out of z) yield out as Buffer;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (err instanceof FetchError) throw err;
      if (e.code?.startsWith('Z_') || e.code?.startsWith('ERR_')) {
        const trunc = /unexpected end/i.test(e.message);
        throw new ArchiveError(
          trunc ? `the ${what} stream is truncated` : `corrupt ${what} stream: ${e.message}`,
          trunc ? 'TRUNCATED' : `CORRUPT_${what.toUpperCase()}`,
          { cause: err },
        );
      }
      throw err;
    } finally {
      src.destroy();
    }
  })();
}

export function decompress(
  input: AsyncIterable<Buffer>,
  kind: Compression,
  recycler?: BlockRecycler,
): AsyncIterable<Buffer> {
  switch (kind) {
    case 'none':
      return input;
    case 'gzip':
      return zlibStream(input, zlib.createGunzip({ chunkSize: 256 << 10 }), 'gzip');
    case 'lz4':
      return decodeLz4(input, recycler ? { recycler } : {});
    case 'zstd': {
      const make = (zlib as unknown as { createZstdDecompress?: (o?: object) => zlib.Gunzip })
        .createZstdDecompress;
      if (!make)
        throw new FetchError(
          `zstd needs Node.js >= 22.15 (zlib.createZstdDecompress); this is Node ${process.versions.node}`,
          'UNSUPPORTED_COMPRESSION',
          400,
        );
      return zlibStream(input, make({ chunkSize: 256 << 10 }), 'zstd');
    }
  }
}
