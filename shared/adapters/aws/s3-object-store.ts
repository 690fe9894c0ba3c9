// ObjectStore on S3 (AWS SDK v3): ranged gets, streamed multipart puts, server-side copies and
// batched deletes; S3 errors become Sluice errors whose messages name the bucket and key.
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NotFoundError, SluiceError } from '../../errors.ts';
import type {
  DeleteFailure,
  GetOptions,
  ObjectHead,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from '../../ports/object-store.ts';
import { createS3Client } from './s3-client.ts';
import { DEFAULT_PART_SIZE } from './s3-env.ts';
import type { ListPage } from './s3-list-xml.ts';

const MAX_SINGLE_COPY = 5 * 1024 ** 3;
const COPY_PART = 512 * 1024 ** 2;

/** The object changed while we read it (ETag precondition failed). */
export class ObjectChangedError extends SluiceError {
  override name = 'ObjectChangedError';
  constructor(where: string) {
    super(`${where} changed while it was being read`, 'OBJECT_CHANGED', 409);
  }
}

interface AwsErrorLike {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Maps an S3 error to a Sluice error with a message a user can act on. */
export function s3Error(err: unknown, bucket: string, key?: string): Error {
  const e = err as AwsErrorLike;
  const where = key === undefined ? `s3://${bucket}` : `s3://${bucket}/${key}`;
  const status = e?.$metadata?.httpStatusCode;
  const name = e?.name ?? e?.Code ?? '';
  if (name === 'NoSuchBucket')
    return new NotFoundError(`${where}: bucket "${bucket}" does not exist`, 'NO_SUCH_BUCKET');
  if (name === 'NoSuchKey' || name === 'NotFound' || status === 404)
    return new NotFoundError(`${where}: not found`);
  if (name === 'AccessDenied' || status === 403) {
    return new SluiceError(
      `${where}: access denied (check credentials and bucket policy)`,
      'ACCESS_DENIED',
      403,
    );
  }
  if (name === 'PreconditionFailed' || status === 412) return new ObjectChangedError(where);
  if (name === 'AbortError') return err as Error;
  const retryable = status === undefined || status >= 500 || status === 429;
  return new SluiceError(
    `${where}: ${e?.message || name || 'S3 request failed'}`,
    'S3_ERROR',
    status ?? 502,
    {
      cause: err,
      retryable,
    },
  );
}

export class S3ObjectStore implements ObjectStore {
  constructor(readonly client: S3Client = createS3Client()) {}

  async head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), {
        abortSignal: signal,
      });
      return {
        key,
        size: r.ContentLength ?? 0,
        ...(r.LastModified ? { mtime: r.LastModified } : {}),
        ...(r.ETag ? { etag: r.ETag } : {}),
        ...(r.ContentType ? { contentType: r.ContentType } : {}),
        ...(r.Metadata ? { metadata: r.Metadata } : {}),
      };
    } catch (err) {
      throw s3Error(err, bucket, key);
    }
  }

  async *list(bucket: string, prefix: string, signal?: AbortSignal): AsyncIterable<ObjectInfo[]> {
    let token: string | undefined;
    do {
      const page = await this.listPage(bucket, prefix, { ...(token ? { token } : {}), signal });
      if (page.objects.length) yield page.objects;
      token = page.nextToken;
    } while (token);
  }

  /** One ListObjectsV2 page (recursive); `nextToken` is absent on the last page. */
  async listPage(
    bucket: string,
    prefix: string,
    opts: { token?: string; maxKeys?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<ListPage> {
    let r: ListObjectsV2CommandOutput;
    try {
      r = await this.client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ContinuationToken: opts.token,
          ...(opts.maxKeys ? { MaxKeys: opts.maxKeys } : {}),
        }),
        { abortSignal: opts.signal },
      );
    } catch (err) {
      throw s3Error(err, bucket, prefix);
    }
    const objects: ObjectInfo[] = [];
    for (const o of r.Contents ?? []) {
      if (o.Key === undefined) continue;
      objects.push({
        key: o.Key,
        size: o.Size ?? 0,
        ...(o.LastModified ? { mtime: o.LastModified } : {}),
        ...(o.ETag ? { etag: o.ETag } : {}),
      });
    }
    const nextToken = r.IsTruncated ? r.NextContinuationToken : undefined;
    return nextToken ? { objects, nextToken } : { objects };
  }

  async get(bucket: string, key: string, opts: GetOptions = {}) {
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: bucket,
          Key: key,
          ...(opts.range ? { Range: `bytes=${opts.range.start}-${opts.range.end}` } : {}),
          ...(opts.ifMatch ? { IfMatch: opts.ifMatch } : {}),
        }),
        { abortSignal: opts.signal },
      );
      return {
        body: r.Body as Readable,
        size: r.ContentLength ?? 0,
        ...(r.ETag ? { etag: r.ETag } : {}),
      };
    } catch (err) {
      throw s3Error(err, bucket, key);
    }
  }

  async put(bucket: string, key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<void> {
    const partSize = opts.partSize ?? DEFAULT_PART_SIZE;
    if (Buffer.isBuffer(body) && body.length <= partSize) {
      // One PutObject: lib-storage's Upload costs several times the CPU per small object.
      try {
        await this.client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: body,
            ContentLength: body.length,
            ...(opts.contentType ? { ContentType: opts.contentType } : {}),
            ...(opts.metadata ? { Metadata: opts.metadata } : {}),
          }),
          { abortSignal: opts.signal },
        );
      } catch (err) {
        throw s3Error(err, bucket, key);
      }
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: bucket,
        Key: key,
        Body: body,
        ...(opts.contentType ? { ContentType: opts.contentType } : {}),
        ...(opts.metadata ? { Metadata: opts.metadata } : {}),
      },
      partSize,
      queueSize: opts.partConcurrency ?? 4,
      leavePartsOnError: false,
    });
    const onAbort = () => void upload.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await upload.done();
    } catch (err) {
      throw s3Error(err, bucket, key);
    } finally {
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  async copy(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, size: number) {
    const source = `${src.bucket}/${encodeURIComponent(src.key).replace(/%2F/g, '/')}`;
    try {
      if (size <= MAX_SINGLE_COPY) {
        await this.client.send(
          new CopyObjectCommand({ Bucket: dst.bucket, Key: dst.key, CopySource: source }),
        );
        return;
      }
      const { UploadId } = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: dst.bucket, Key: dst.key }),
      );
      try {
        const parts: { ETag?: string; PartNumber: number }[] = [];
        for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
          const end = Math.min(start + COPY_PART, size) - 1;
          const r = await this.client.send(
            new UploadPartCopyCommand({
              Bucket: dst.bucket,
              Key: dst.key,
              UploadId,
              PartNumber: n,
              CopySource: source,
              CopySourceRange: `bytes=${start}-${end}`,
            }),
          );
          parts.push({ ETag: r.CopyPartResult?.ETag, PartNumber: n });
        }
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: dst.bucket,
            Key: dst.key,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
      } catch (err) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: dst.bucket, Key: dst.key, UploadId }))
          .catch(() => {});
        throw err;
      }
    } catch (err) {
      throw s3Error(err, dst.bucket, dst.key);
    }
  }

  async deleteMany(bucket: string, keys: string[]): Promise<DeleteFailure[]> {
    if (keys.length === 0) return [];
    if (keys.length > 1000) throw new RangeError('deleteMany takes at most 1000 keys');
    try {
      const r = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      return (r.Errors ?? []).map((e) => ({
        key: e.Key ?? '?',
        message: `${e.Code ?? 'Error'}: ${e.Message ?? 'delete failed'}`,
      }));
    } catch (err) {
      throw s3Error(err, bucket);
    }
  }
}
