// BlobStore on S3: results, large flowInputs and task inputs, outcomes too big for a message.
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { BlobStore } from '../../ports/blob-store.ts';
import { s3Error } from './s3-object-store.ts';

/** Where the engine's blobs live in the blob bucket (the roles' grants are scoped to it). */
export const BLOB_KEY_PREFIX = 'blobs/';

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    /** Key prefix inside the bucket (default BLOB_KEY_PREFIX). */
    private readonly prefix = BLOB_KEY_PREFIX,
  ) {}

  async put(key: string, data: Buffer): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.prefix + key,
          Body: data,
          ContentType: 'application/json',
        }),
      );
    } catch (err) {
      throw s3Error(err, this.bucket, this.prefix + key);
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return Buffer.from(
        await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
      );
    } catch (err) {
      throw s3Error(err, this.bucket, this.prefix + key);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    } catch (err) {
      throw s3Error(err, this.bucket, this.prefix + key);
    }
  }
}
