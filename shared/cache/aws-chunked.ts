// Uploads signed chunk by chunk (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD...) carry
// the reader's chunk signatures, which the origin would check against the cache's credentials and
// reject. The cache strips the framing (`<hex size>;chunk-signature=...\r\n<data>\r\n`, a zero-size
// chunk, optional trailers) and sends the plain bytes, signed as UNSIGNED-PAYLOAD.
import { Transform, type TransformCallback } from 'node:stream';

/** True for payload modes whose body is aws-chunked with per-chunk signatures. */
export function hasSignedChunks(contentSha256: string | undefined): boolean {
  return /^STREAMING-AWS4-(HMAC-SHA256|ECDSA-P256-SHA256)-PAYLOAD/.test(contentSha256 ?? '');
}

const MAX_LINE = 4096;

export class AwsChunkedDecoder extends Transform {
  private state: 'size' | 'data' | 'crlf' | 'trailers' = 'size';
  private line = '';
  private left = 0;
  private crlfLeft = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.state === 'data') {
        const n = Math.min(this.left, chunk.length - i);
        this.push(chunk.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) {
          this.state = 'crlf';
          this.crlfLeft = 2;
        }
      } else if (this.state === 'crlf') {
        i++;
        if (--this.crlfLeft === 0) this.state = 'size';
      } else if (this.state === 'trailers') {
        i = chunk.length;
      } else {
        const nl = chunk.indexOf(10, i);
        const end = nl < 0 ? chunk.length : nl;
        this.line += chunk.toString('latin1', i, end);
        i = nl < 0 ? chunk.length : nl + 1;
        if (this.line.length > MAX_LINE) {
          done(new Error('aws-chunked: chunk header too long'));
          return;
        }
        if (nl < 0) continue;
        const size = Number.parseInt(this.line.split(';')[0]!.trim(), 16);
        this.line = '';
        if (!Number.isSafeInteger(size) || size < 0) {
          done(new Error('aws-chunked: bad chunk size'));
          return;
        }
        if (size === 0) this.state = 'trailers';
        else {
          this.state = 'data';
          this.left = size;
        }
      }
    }
    done();
  }

  override _flush(done: TransformCallback): void {
    done(this.state === 'trailers' ? undefined : new Error('aws-chunked: body ended inside a chunk'));
  }
}
