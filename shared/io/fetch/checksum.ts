// Checksums of a download: the user's `--checksum ALG=HEX`, and what the server vouches for —
// `Content-MD5` per response, `x-amz-checksum-sha256`/`-sha1` and an ETag that is an MD5 (a
// single-part S3 upload) for the whole object. All are checked while the bytes stream past; a
// mismatch is never retried (the server would say the same again) and nothing is kept.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ValidationError } from '../../errors.ts';
import { FetchError } from './errors.ts';

export const DIGEST_ALGORITHMS = ['md5', 'sha1', 'sha256', 'sha512'] as const;
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number];
const HEX_LENGTH: Record<DigestAlgorithm, number> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

export interface ExpectedDigest {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
  /** Who vouches for it, for the message: "--checksum", "ETag", "x-amz-checksum-sha256". */
  from: string;
}

export class ChecksumMismatchError extends FetchError {
  override name = 'ChecksumMismatchError';
  constructor(url: string, d: ExpectedDigest, actual: string, what = 'the download') {
    super(
      `${url}: ${d.algorithm} of ${what} is ${actual}, but ${d.from} says ${d.hex}; nothing was kept`,
      'CHECKSUM_MISMATCH',
      422,
      { retryable: false },
    );
  }
}

/** "sha256=HEX" (also "sha256:HEX") -> ExpectedDigest; a ValidationError naming `field` otherwise. */
export function parseChecksum(text: string, field = '--checksum'): ExpectedDigest {
  const m = /^([a-z0-9]+)[=:]([0-9a-fA-F]+)$/.exec(text.trim());
  const algorithm = m?.[1] as DigestAlgorithm | undefined;
  if (!m || !algorithm || !DIGEST_ALGORITHMS.includes(algorithm))
    throw new ValidationError(
      `${field} must be ALGORITHM=HEX with ALGORITHM one of ${DIGEST_ALGORITHMS.join(', ')} (got "${text}")`,
      field,
    );
  const hex = m[2]!.toLowerCase();
  if (hex.length !== HEX_LENGTH[algorithm])
    throw new ValidationError(
      `${field}: a ${algorithm} is ${HEX_LENGTH[algorithm]} hex digits (got ${hex.length})`,
      field,
    );
  return { algorithm, hex, from: field };
}

const base64ToHex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

/** What a response's headers vouch for about the WHOLE object. */
export function wholeObjectDigests(headers: Record<string, string | string[] | undefined>): ExpectedDigest[] {
  const out: ExpectedDigest[] = [];
  for (const algorithm of ['sha256', 'sha1'] as const) {
    const v = headers[`x-amz-checksum-${algorithm}`];
    // A composite checksum ("...-3", per multipart part) is not one of the whole object.
    if (typeof v === 'string' && !v.includes('-'))
      out.push({ algorithm, hex: base64ToHex(v), from: `x-amz-checksum-${algorithm}` });
  }
  const etag = headers.etag;
  if (typeof etag === 'string') {
    const md5 = etagMd5(etag);
    if (md5) out.push({ algorithm: 'md5', hex: md5, from: 'ETag' });
  }
  return out;
}

/** An ETag that is a plain MD5 (S3 single-part uploads; not multipart "-N", not weak). */
export function etagMd5(etag: string): string | undefined {
  return /^"([0-9a-f]{32})"$/i.exec(etag)?.[1]?.toLowerCase();
}

/** Passes the bytes through, checking every digest at the end of the stream. */
export async function* verifyDigests(
  input: AsyncIterable<Buffer>,
  digests: ExpectedDigest[],
  url: string,
): AsyncGenerator<Buffer> {
  if (digests.length === 0) return yield* input;
  const hashes = new Map<DigestAlgorithm, Hash>();
  for (const d of digests) if (!hashes.has(d.algorithm)) hashes.set(d.algorithm, createHash(d.algorithm));
  for await (const b of input) {
    for (const h of hashes.values()) h.update(b);
    yield b;
  }
  const actual = new Map([...hashes].map(([a, h]) => [a, h.digest('hex')]));
  for (const d of digests) {
    const got = actual.get(d.algorithm)!;
    if (got !== d.hex) throw new ChecksumMismatchError(url, d, got);
  }
}

/** Checks one response body against its Content-MD5 header (base64 MD5 of exactly that body). */
export class ContentMd5Check extends Transform {
  private readonly hash = createHash('md5');
  constructor(
    private readonly url: string,
    private readonly expected: string,
    private readonly what: string,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const got = this.hash.digest('hex');
    if (got === this.expected) cb();
    else
      cb(
        new ChecksumMismatchError(
          this.url,
          { algorithm: 'md5', hex: this.expected, from: 'Content-MD5' },
          got,
          this.what,
        ),
      );
  }
}

export { base64ToHex };
