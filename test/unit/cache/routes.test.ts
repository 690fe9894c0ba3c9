import { describe, expect, it } from 'vitest';
import { parseRoute } from '../../../shared/cache/routes.ts';

describe('parseRoute', () => {
  it('control endpoints', () => {
    expect(parseRoute('GET', '/-/stats')).toEqual({ kind: 'control', name: 'stats' });
    expect(parseRoute('POST', '/-/clear')).toEqual({ kind: 'control', name: 'clear' });
  });

  it('HTTP(S) origins keep path and query as sent (the query is part of the key)', () => {
    expect(parseRoute('GET', '/https/Example.com:8443/a/b%20c.bin?sig=1&x=2')).toEqual({
      kind: 'http',
      origin: 'https://example.com:8443',
      url: 'https://example.com:8443/a/b%20c.bin?sig=1&x=2',
    });
    expect(parseRoute('GET', '/http/127.0.0.1:9')).toMatchObject({ url: 'http://127.0.0.1:9/' });
    expect(parseRoute('GET', '/http/user@evil.com/x')).toMatchObject({ kind: 'invalid' });
  });

  it('S3 path style: bucket, decoded key, cacheable GETs and what is passed through', () => {
    expect(parseRoute('GET', '/bkt/dir/a%20b%2Bc.bin?x-id=GetObject')).toEqual({
      kind: 's3',
      bucket: 'bkt',
      key: 'dir/a b+c.bin',
      query: [['x-id', 'GetObject']],
      cacheable: true,
    });
    expect(parseRoute('HEAD', '/bkt/k?versionId=3')).toMatchObject({ cacheable: true });
    expect(parseRoute('GET', '/bkt/k?partNumber=2')).toMatchObject({ cacheable: false });
    expect(parseRoute('PUT', '/bkt/k')).toMatchObject({ cacheable: false });
    expect(parseRoute('GET', '/bkt?list-type=2&prefix=a')).toMatchObject({
      bucket: 'bkt',
      key: '',
      cacheable: false,
    });
    // A presigned URL's signature is the reader's: dropped (the cache signs anew).
    expect(parseRoute('GET', '/bkt/k?X-Amz-Signature=abc&X-Amz-Credential=c')).toMatchObject({
      query: [],
      cacheable: true,
    });
    expect(parseRoute('GET', '/bkt/%E0%A4%A')).toMatchObject({ kind: 'invalid' });
  });
});
