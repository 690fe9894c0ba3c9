import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { AwsChunkedDecoder, hasSignedChunks } from '../../../shared/cache/aws-chunked.ts';

function frame(data: Buffer, chunk: number, trailer = ''): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) {
    const c = data.subarray(i, i + chunk);
    parts.push(
      Buffer.from(`${c.length.toString(16)};chunk-signature=${'a'.repeat(64)}\r\n`),
      c,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`0;chunk-signature=${'b'.repeat(64)}\r\n${trailer}\r\n`));
  return Buffer.concat(parts);
}

/** Feeds the stream in awkward pieces (splitting headers and CRLFs). */
const pieces = (b: Buffer, size: number) =>
  Readable.from(
    Array.from({ length: Math.ceil(b.length / size) }, (_, i) => b.subarray(i * size, (i + 1) * size)),
  );

describe('AwsChunkedDecoder', () => {
  it('strips signed-chunk framing, whatever the read boundaries', async () => {
    const data = randomBytes(100_003);
    for (const size of [1, 7, 4096, 1 << 20]) {
      const out = await buffer(
        pieces(frame(data, 65536, 'x-amz-checksum-crc32:AAAAAA==\r\n'), size).pipe(new AwsChunkedDecoder()),
      );
      expect(out.equals(data)).toBe(true);
    }
  });

  it('fails on a body cut inside a chunk', async () => {
    const framed = frame(randomBytes(1000), 512);
    await expect(buffer(pieces(framed.subarray(0, 600), 100).pipe(new AwsChunkedDecoder()))).rejects.toThrow(
      /ended inside a chunk/,
    );
  });

  it('knows which payload modes carry chunk signatures', () => {
    expect(hasSignedChunks('STREAMING-AWS4-HMAC-SHA256-PAYLOAD')).toBe(true);
    expect(hasSignedChunks('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER')).toBe(true);
    expect(hasSignedChunks('STREAMING-UNSIGNED-PAYLOAD-TRAILER')).toBe(false);
    expect(hasSignedChunks('UNSIGNED-PAYLOAD')).toBe(false);
    expect(hasSignedChunks(undefined)).toBe(false);
  });
});
