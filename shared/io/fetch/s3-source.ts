// S3 objects as a ByteSource, through the ObjectStore port (never the SDK directly): HeadObject for
// the size and ETag, ranged GetObject with If-Match so a replaced object fails instead of mixing.
import type { Readable } from 'node:stream';
import type { ObjectStore } from '../../ports/object-store.ts';
import { parseS3Url } from '../s3-url.ts';
import { etagMd5 } from './checksum.ts';
import { SourceChangedError } from './errors.ts';
import type { ByteRange, ByteSource, SourceInfo } from './source.ts';

export class S3Source implements ByteSource {
  private readonly bucket: string;
  private readonly key: string;
  constructor(
    readonly name: string,
    private readonly store: ObjectStore,
  ) {
    const loc = parseS3Url(name);
    this.bucket = loc.bucket;
    this.key = loc.key;
  }

  async probe(signal: AbortSignal): Promise<SourceInfo> {
    const h = await this.store.head(this.bucket, this.key, signal);
    // A single-part upload's ETag is the object's MD5: checked while streaming.
    const md5 = h.etag ? etagMd5(h.etag) : undefined;
    return {
      size: h.size,
      ranges: true,
      ...(h.etag ? { etag: h.etag } : {}),
      ...(md5 ? { digests: [{ algorithm: 'md5' as const, hex: md5, from: 'ETag' }] } : {}),
    };
  }

  async open(range: ByteRange | undefined, expect: SourceInfo, signal: AbortSignal): Promise<Readable> {
    let r: Awaited<ReturnType<ObjectStore['get']>>;
    try {
      r = await this.store.get(this.bucket, this.key, {
        ...(range ? { range } : {}),
        ...(expect.etag ? { ifMatch: expect.etag } : {}),
        signal,
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'OBJECT_CHANGED')
        throw new SourceChangedError(this.name, 'ETag no longer matches');
      throw err;
    }
    // Emulators may ignore If-Match: compare the ETag we got back as well.
    if (expect.etag && r.etag && r.etag !== expect.etag) {
      r.body.destroy();
      throw new SourceChangedError(this.name, `ETag ${expect.etag} -> ${r.etag}`);
    }
    return r.body;
  }
}
