// The ObjectStore of the bulk IO commands: the requests they make by the thousand (GET, HEAD,
// ListObjectsV2 pages, small PUTs) go through S3FastPath first; the AWS SDK store answers anything
// else and anything unusual, and is loaded on first need, so a download whose credentials are in
// the environment starts its requests without paying for loading the SDK (~0.1 s of CPU).
import type { Readable } from 'node:stream';
import type {
  DeleteFailure,
  GetOptions,
  ListOptions,
  ObjectHead,
  ObjectInfo,
  ObjectStore,
  PutOptions,
} from '../../ports/object-store.ts';
import {
  credentialsFromEnv,
  DEFAULT_PART_SIZE,
  forcePathStyleFromEnv,
  regionFromEnv,
  s3EndpointFromEnv,
} from './s3-env.ts';
import { S3FastPath } from './s3-fast-path.ts';
import type { ListPage } from './s3-list-xml.ts';
import type { S3ObjectStore } from './s3-object-store.ts';

export class S3BulkStore implements ObjectStore {
  private sdkStore: Promise<S3ObjectStore> | undefined;

  /** `fast` undefined: every request through the SDK (SLUICE_S3_FAST_PATH=0). */
  constructor(
    private readonly loadSdkStore: () => Promise<S3ObjectStore>,
    private readonly fast?: S3FastPath,
  ) {}

  /** The SDK store, loaded once. */
  sdk(): Promise<S3ObjectStore> {
    this.sdkStore ??= this.loadSdkStore();
    return this.sdkStore;
  }

  async head(bucket: string, key: string, signal?: AbortSignal): Promise<ObjectHead> {
    return (await this.fast?.head(bucket, key, signal)) ?? (await this.sdk()).head(bucket, key, signal);
  }

  async *list(
    bucket: string,
    prefix: string,
    signal?: AbortSignal,
    opts: ListOptions = {},
  ): AsyncIterable<ObjectInfo[]> {
    let token: string | undefined;
    let first = true;
    do {
      const page = await this.listPage(bucket, prefix, {
        ...(token ? { token } : {}),
        ...(first && opts.firstPageSize ? { maxKeys: opts.firstPageSize } : {}),
        ...(signal ? { signal } : {}),
      });
      first = false;
      if (page.objects.length) yield page.objects;
      token = page.nextToken;
    } while (token);
  }

  private async listPage(
    bucket: string,
    prefix: string,
    opts: { token?: string; maxKeys?: number; signal?: AbortSignal },
  ): Promise<ListPage> {
    return (
      (await this.fast?.listPage(bucket, prefix, opts)) ?? (await this.sdk()).listPage(bucket, prefix, opts)
    );
  }

  async get(
    bucket: string,
    key: string,
    opts: GetOptions = {},
  ): Promise<{ body: Readable; size: number; etag?: string }> {
    return (await this.fast?.get(bucket, key, opts)) ?? (await this.sdk()).get(bucket, key, opts);
  }

  async put(bucket: string, key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<void> {
    if (this.fast && Buffer.isBuffer(body) && body.length <= (opts.partSize ?? DEFAULT_PART_SIZE)) {
      const fastOpts = {
        ...(opts.contentType ? { contentType: opts.contentType } : {}),
        ...(opts.metadata ? { metadata: opts.metadata } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      };
      if (await this.fast.put(bucket, key, body, fastOpts)) return;
    }
    await (await this.sdk()).put(bucket, key, body, opts);
  }

  async copy(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, size: number) {
    await (await this.sdk()).copy(src, dst, size);
  }

  async deleteMany(bucket: string, keys: string[]): Promise<DeleteFailure[]> {
    return (await this.sdk()).deleteMany(bucket, keys);
  }
}

/** The bulk IO store for the standard AWS environment (SLUICE_S3_FAST_PATH=0: SDK only). */
export function createBulkS3ObjectStore(env: NodeJS.ProcessEnv = process.env): S3BulkStore {
  const load = async () => {
    const [{ S3ObjectStore }, { createS3Client }] = await Promise.all([
      import('./s3-object-store.ts'),
      import('./s3-client.ts'),
    ]);
    return new S3ObjectStore(createS3Client(env));
  };
  let store: S3BulkStore | undefined;
  const envCredentials = credentialsFromEnv(env);
  const endpoint = s3EndpointFromEnv(env);
  const fast =
    env.SLUICE_S3_FAST_PATH === '0'
      ? undefined
      : new S3FastPath({
          ...(endpoint ? { endpoint } : {}),
          forcePathStyle: forcePathStyleFromEnv(env),
          region: async () => regionFromEnv(env),
          // Keys not in the environment come from the SDK's credential chain (profiles, SSO, IMDS...).
          credentials: async () => envCredentials ?? (await store!.sdk()).client.config.credentials(),
        });
  store = new S3BulkStore(load, fast);
  return store;
}
