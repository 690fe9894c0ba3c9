// The lean signed GET used by bulk IO, against s3rver: it must really succeed on the happy path
// (s3rver checks SigV4 signatures) and step aside (undefined) for everything else.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BulkStore } from '../../shared/adapters/aws/s3-bulk-store.ts';
import { canonicalQuery, S3FastPath, signS3Request } from '../../shared/adapters/aws/s3-fast-path.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

let s3: S3rverHandle;
const fastPath = (accessKeyId = 'S3RVER') =>
  new S3FastPath({
    endpoint: s3.endpoint,
    forcePathStyle: true,
    region: async () => 'us-east-1',
    credentials: async () => ({ accessKeyId, secretAccessKey: 'S3RVER' }),
  });

beforeAll(async () => {
  s3 = await startS3rver(['fast-get']);
  await s3.store().put('fast-get', "dir/odd name (1)!*'.txt", Buffer.from('0123456789'));
});
afterAll(async () => {
  await s3.close();
});

describe('S3FastPath', () => {
  it('gets an object and a range with a valid signature (keys with characters S3 escapes)', async () => {
    const whole = await fastPath().get('fast-get', "dir/odd name (1)!*'.txt");
    expect(whole).toBeDefined();
    expect(await text(whole!.body)).toBe('0123456789');
    expect(whole!.size).toBe(10);
    const part = await fastPath().get('fast-get', "dir/odd name (1)!*'.txt", { range: { start: 2, end: 4 } });
    expect(await text(part!.body)).toBe('234');
  });

  it('returns undefined (use the SDK) for a missing key, unknown credentials or no server', async () => {
    expect(await fastPath().get('fast-get', 'nope')).toBeUndefined();
    expect(await fastPath('WRONG').get('fast-get', "dir/odd name (1)!*'.txt")).toBeUndefined();
    const dead = new S3FastPath({
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
      region: async () => 'us-east-1',
      credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
    });
    expect(await dead.get('fast-get', 'x')).toBeUndefined();
  });

  it('heads an object (size, date, ETag, metadata); a 404 is an answer (NotFoundError)', async () => {
    const h = await fastPath().head('fast-get', "dir/odd name (1)!*'.txt");
    const sdk = await s3.store().head('fast-get', "dir/odd name (1)!*'.txt");
    expect(h).toEqual(sdk);
    await expect(fastPath().head('fast-get', 'nope')).rejects.toMatchObject({ status: 404 });
    expect(await fastPath('WRONG').head('fast-get', "dir/odd name (1)!*'.txt")).toBeUndefined();
  });

  it('lists keys exactly as the SDK does (characters that XML and URLs escape)', async () => {
    const names = ['list/a b', 'list/a+b', 'list/é&<x>', "list/q'(1)*", 'list/sub/z~', 'list/t%41'];
    for (const k of names) await s3.store().put('fast-get', k, Buffer.from(k));
    const sdk: unknown[] = [];
    for await (const p of s3.store().list('fast-get', 'list/')) sdk.push(...p);
    const fast = await fastPath().listPage('fast-get', 'list/');
    expect(fast?.objects.map((o) => o.key)).toEqual([...names].sort());
    expect(fast?.objects).toEqual(sdk);
    expect(fast?.nextToken).toBeUndefined();
    expect(await fastPath().listPage('no-such-bucket', '')).toBeUndefined();
  });

  it('pages with max-keys and the continuation token (a canned server: s3rver pages need legacy DES)', async () => {
    const queries: URLSearchParams[] = [];
    const xml = (keys: string[], token?: string) =>
      `<ListBucketResult><IsTruncated>${token ? 'true' : 'false'}</IsTruncated>${
        token ? `<NextContinuationToken>${token}</NextContinuationToken>` : ''
      }${keys.map((k) => `<Contents><Key>${k}</Key><Size>1</Size></Contents>`).join('')}</ListBucketResult>`;
    const server = createServer((req, res) => {
      const q = new URL(req.url!, 'http://x').searchParams;
      queries.push(q);
      res.end(q.get('continuation-token') === 't+1/=' ? xml(['p/c']) : xml(['p/a', 'p/b'], 't+1/='));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const fp = new S3FastPath({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        forcePathStyle: true,
        region: async () => 'us-east-1',
        credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
      });
      const bulk = new S3BulkStore(() => Promise.reject(new Error('the SDK was loaded')), fp);
      const pages: string[][] = [];
      for await (const p of bulk.list('bkt', 'p/', undefined, { firstPageSize: 2 }))
        pages.push(p.map((o) => o.key));
      expect(pages).toEqual([['p/a', 'p/b'], ['p/c']]);
      expect(queries.map((q) => [q.get('max-keys'), q.get('continuation-token'), q.get('prefix')])).toEqual([
        ['2', null, 'p/'],
        [null, 't+1/=', 'p/'],
      ]);
    } finally {
      server.close();
    }
  });

  it('an aborted request fails as AbortError instead of being repeated through the SDK', async () => {
    // A server that never answers: the request is in flight when it is aborted.
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const fp = new S3FastPath({
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        forcePathStyle: true,
        region: async () => 'us-east-1',
        credentials: async () => ({ accessKeyId: 'a', secretAccessKey: 'b' }),
      });
      const bulk = new S3BulkStore(() => Promise.reject(new Error('the SDK was loaded')), fp);
      const ac = new AbortController();
      const pending = bulk.get('bkt', 'k', { range: { start: 0, end: 9 }, signal: ac.signal });
      setTimeout(() => ac.abort(), 50);
      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      await expect(bulk.head('bkt', 'k', ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('the bulk store falls back to the SDK, so errors stay precise', async () => {
    await expect(s3.bulkStore().get('fast-get', 'nope')).rejects.toThrow(/not found/);
    const r = await s3.bulkStore().get('fast-get', "dir/odd name (1)!*'.txt");
    expect(await text(r.body)).toBe('0123456789');
  });
});

describe('signS3Request', () => {
  it('signs exactly like the AWS SDK signer (same Authorization for the same request and time)', async () => {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    class Sha256 {
      private readonly h;
      constructor(secret?: unknown) {
        this.h = secret ? createHmac('sha256', Buffer.from(secret as Uint8Array)) : createHash('sha256');
      }
      update(d: string | Uint8Array) {
        this.h.update(typeof d === 'string' ? d : Buffer.from(d));
      }
      async digest() {
        return new Uint8Array(this.h.digest());
      }
      reset() {}
    }
    const creds = {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
      sessionToken: 'tok',
    };
    const now = new Date('2024-05-06T07:08:09Z');
    const url = new URL('https://my-bucket.s3.eu-west-1.amazonaws.com/dir/odd%20name%20%281%29.txt');
    // The SDK's signer with the options S3 uses, as the reference.
    const sdkSign = async (
      method: string,
      path: string,
      query: Record<string, string>,
      headers: Record<string, string>,
    ) =>
      (
        await new SignatureV4({
          service: 's3',
          region: 'eu-west-1',
          credentials: creds,
          sha256: Sha256,
          uriEscapePath: false,
          applyChecksum: false,
        }).sign(
          { method, protocol: 'https:', hostname: url.hostname, path, query, headers },
          { signingDate: now },
        )
      ).headers.authorization;
    const mine: Record<string, string> = { range: 'bytes=0-99' };
    signS3Request('GET', url, mine, { region: 'eu-west-1', creds, now });
    expect(mine.authorization).toBe(
      await sdkSign(
        'GET',
        url.pathname,
        {},
        {
          host: url.host,
          range: 'bytes=0-99',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      ),
    );

    const put: Record<string, string> = { 'content-length': '3', 'x-amz-meta-mtime': '1.5' };
    signS3Request('PUT', url, put, { region: 'eu-west-1', creds, now });
    expect(put.authorization).toBe(
      await sdkSign(
        'PUT',
        url.pathname,
        {},
        {
          host: url.host,
          'content-length': '3',
          'x-amz-meta-mtime': '1.5',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      ),
    );

    // A listing: the query string is part of what is signed (sorted, RFC 3986-escaped).
    const params = {
      'list-type': '2',
      prefix: "a b/ü+(x)*'",
      'continuation-token': 'x+y/z=',
      'max-keys': '5',
    };
    const list = { protocol: 'https:', host: url.host, pathname: '/', search: `?${canonicalQuery(params)}` };
    const listHeaders: Record<string, string> = {};
    signS3Request('GET', list, listHeaders, { region: 'eu-west-1', creds, now });
    expect(listHeaders.authorization).toBe(
      await sdkSign('GET', '/', params, { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }),
    );
  });
});

describe('S3FastPath.put', () => {
  it('stores the body and metadata (read back through the SDK)', async () => {
    expect(
      await fastPath().put('fast-get', 'put/x.bin', Buffer.from('abc'), { metadata: { mtime: '12.5' } }),
    ).toBe(true);
    const head = await s3.store().head('fast-get', 'put/x.bin');
    expect(head).toMatchObject({ size: 3, metadata: { mtime: '12.5' } });
    expect(await text((await s3.store().get('fast-get', 'put/x.bin')).body)).toBe('abc');
  });

  it('declines (the SDK will answer) for a missing bucket and non-ASCII metadata', async () => {
    expect(await fastPath().put('no-such-bucket', 'x', Buffer.from('a'))).toBe(false);
    expect(await fastPath().put('fast-get', 'x', Buffer.from('a'), { metadata: { n: 'é' } })).toBe(false);
  });
});
