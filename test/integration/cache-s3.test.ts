// The read-through cache in front of S3 (s3rver on 127.0.0.1), read by the AWS SDK v3 pointed at
// the cache (endpoint = cache, path style) with credentials of its own: the cache signs upstream
// requests with its credentials. Reads, writes passed through and invalidating, listings, errors.
import { randomBytes } from 'node:crypto';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3UpstreamSigner } from '../../shared/adapters/aws/s3-upstream-signer.ts';
import { read, startTestCache, TEST_BLOCK, type TestCache } from '../helpers/cache.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

const BUCKET = 'cache-s3';
let s3: S3rverHandle;
let cache: TestCache;
let client: S3Client;
let direct: S3Client;
let clock = 1_700_000_000_000;

const sdk = (endpoint: string, accessKeyId: string, secretAccessKey: string) =>
  new S3Client({
    endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId, secretAccessKey },
  });

async function get(c: S3Client, Key: string, Range?: string): Promise<Buffer> {
  const r = await c.send(new GetObjectCommand({ Bucket: BUCKET, Key, ...(Range ? { Range } : {}) }));
  return Buffer.from(await r.Body!.transformToByteArray());
}

const originRequests = () => cache.server.stats().originRequests;

beforeAll(async () => {
  s3 = await startS3rver([BUCKET]);
  // Checksum settings s3rver needs (the SDK reads them from the environment).
  Object.assign(process.env, {
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
  });
  cache = await startTestCache({}, { s3: createS3UpstreamSigner(s3.env), now: () => clock });
  // The reader's own keys mean nothing upstream: the cache signs with S3RVER/S3RVER.
  client = sdk(cache.url, 'reader', 'reader-secret');
  direct = sdk(s3.endpoint, 'S3RVER', 'S3RVER');
});

afterAll(async () => {
  await cache?.close();
  await s3?.close().catch(() => {});
});

describe('cache in front of S3 (s3rver), read by the AWS SDK', () => {
  it('reads whole objects, ranges and HEADs through it; a second read costs the origin nothing', async () => {
    const body = randomBytes(10 * TEST_BLOCK + 321);
    await direct.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'data/a b+c.bin',
        Body: body,
        ContentType: 'application/x-test',
        Metadata: { owner: 'me' },
      }),
    );
    expect((await get(client, 'data/a b+c.bin')).equals(body)).toBe(true);
    const ranges = Array.from({ length: 12 }, () => {
      const a = Math.floor(Math.random() * body.length);
      return [a, Math.min(body.length - 1, a + Math.floor(Math.random() * 2 * TEST_BLOCK))] as const;
    });
    for (const [a, b] of ranges)
      expect((await get(client, 'data/a b+c.bin', `bytes=${a}-${b}`)).equals(body.subarray(a, b + 1))).toBe(
        true,
      );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/a b+c.bin' }));
    expect(head).toMatchObject({
      ContentLength: body.length,
      ContentType: 'application/x-test',
      Metadata: { owner: 'me' },
    });

    const before = originRequests();
    expect((await get(client, 'data/a b+c.bin')).equals(body)).toBe(true);
    for (const [a, b] of ranges)
      expect((await get(client, 'data/a b+c.bin', `bytes=${a}-${b}`)).equals(body.subarray(a, b + 1))).toBe(
        true,
      );
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'data/a b+c.bin' }));
    expect(originRequests()).toBe(before);
  });

  it('writes pass through (single and multipart) and invalidate what they touch', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w/x.txt', Body: 'first' }));
    expect((await get(client, 'w/x.txt')).toString()).toBe('first');
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w/x.txt', Body: 'second, longer' }));
    expect((await get(client, 'w/x.txt')).toString()).toBe('second, longer');
    // What the origin holds is what was written (nothing re-framed on the way).
    expect((await get(direct, 'w/x.txt')).toString()).toBe('second, longer');

    const big = randomBytes(5 * 1024 * 1024 + 4321);
    await new Upload({
      client,
      params: { Bucket: BUCKET, Key: 'w/big.bin', Body: big },
      partSize: 5 * 1024 * 1024,
    }).done();
    expect((await get(direct, 'w/big.bin')).equals(big)).toBe(true);
    expect(
      (await get(client, 'w/big.bin', 'bytes=5000000-5300000')).equals(big.subarray(5_000_000, 5_300_001)),
    ).toBe(true);

    await client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'w/x.txt' }));
    await expect(get(client, 'w/x.txt')).rejects.toMatchObject({ name: 'NoSuchKey' });
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'w/y.txt', Body: 'y' }));
    expect((await get(client, 'w/y.txt')).toString()).toBe('y');
    await client.send(
      new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'w/y.txt' }] } }),
    );
    await expect(get(client, 'w/y.txt')).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('keeps listings for the TTL; a write through the cache drops them', async () => {
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'list/1', Body: '1' }));
    const list = async () =>
      ((await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'list/' }))).Contents ?? []).map(
        (c) => c.Key,
      );
    expect(await list()).toEqual(['list/1']);
    const before = originRequests();
    expect(await list()).toEqual(['list/1']);
    expect(originRequests()).toBe(before);
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'list/2', Body: '2' }));
    expect(await list()).toEqual(['list/1', 'list/2']);
  });

  it('a change made behind its back shows once the TTL has passed', async () => {
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'behind.txt', Body: 'v1' }));
    expect((await get(client, 'behind.txt')).toString()).toBe('v1');
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'behind.txt', Body: 'v2' }));
    expect((await get(client, 'behind.txt')).toString()).toBe('v1');
    clock += 60_000;
    expect((await get(client, 'behind.txt')).toString()).toBe('v2');
  });

  it('passes errors through: 404 NoSuchKey, 403 for bad cache credentials, 502 naming an unreachable endpoint', async () => {
    await expect(get(client, 'missing.bin')).rejects.toMatchObject({
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
    const denied = await startTestCache(
      {},
      { s3: createS3UpstreamSigner({ ...s3.env, AWS_ACCESS_KEY_ID: 'NOT-S3RVER' }) },
    );
    try {
      const r = await read(`${denied.url}/${BUCKET}/data/a%20b%2Bc.bin`);
      expect(r.status).toBe(403);
      expect(r.body.toString()).toMatch(/<Code>InvalidAccessKeyId<\/Code>/);
    } finally {
      await denied.close();
    }
    const nowhere = await startTestCache(
      {},
      { s3: createS3UpstreamSigner({ ...s3.env, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:1' }) },
    );
    try {
      const r = await read(`${nowhere.url}/${BUCKET}/k`);
      expect(r.status).toBe(502);
      expect(r.body.toString()).toMatch(
        /<Code>BadGateway<\/Code><Message>sluice cache: origin http:\/\/127\.0\.0\.1:1 unreachable/,
      );
    } finally {
      await nowhere.close();
    }
  });

  it('refuses a denied bucket whatever the method, and asks the origin nothing', async () => {
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'engine/blob.json', Body: 'job state' }));
    const guarded = await startTestCache({ deniedBuckets: [BUCKET] }, { s3: createS3UpstreamSigner(s3.env) });
    try {
      const reader = sdk(guarded.url, 'algorithm', 'no-credentials');
      const refused = (p: Promise<unknown>) =>
        p.then(
          () => 'allowed',
          (e: { name?: string; $metadata?: { httpStatusCode?: number } }) =>
            `${e.$metadata?.httpStatusCode} ${e.name}`,
        );
      expect(await refused(get(reader, 'engine/blob.json'))).toBe('403 AccessDenied');
      expect(
        await refused(
          reader.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'engine/blob.json', Body: 'x' })),
        ),
      ).toBe('403 AccessDenied');
      expect(await refused(reader.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toBe(
        '403 AccessDenied',
      );
      expect(guarded.server.stats().originRequests).toBe(0);
      expect((await get(direct, 'engine/blob.json')).toString()).toBe('job state');
    } finally {
      await guarded.close();
    }
  });

  it('still serves what it holds with S3 stopped', async () => {
    const body = randomBytes(3 * TEST_BLOCK);
    await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'kept.bin', Body: body }));
    expect((await get(client, 'kept.bin')).equals(body)).toBe(true);
    await s3.close();
    expect((await get(client, 'kept.bin')).equals(body)).toBe(true);
    clock += 60_000;
    expect((await get(client, 'kept.bin', 'bytes=10-20')).equals(body.subarray(10, 21))).toBe(true);
    expect(cache.log).toEqual([]);
  });
});
