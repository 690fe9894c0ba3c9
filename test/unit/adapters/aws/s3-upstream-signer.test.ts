import { describe, expect, it } from 'vitest';
import { createS3UpstreamSigner } from '../../../../shared/adapters/aws/s3-upstream-signer.ts';

const keys = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret', AWS_REGION: 'eu-west-1' };

describe('the cache’s S3 upstream signer', () => {
  it('addresses a custom endpoint path-style and escapes keys as SigV4 canonicalises them', async () => {
    const up = createS3UpstreamSigner({ ...keys, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000' });
    expect(up.origin).toBe('http://127.0.0.1:9000');
    const r = await up.sign(
      'GET',
      { bucket: 'b', key: 'dir/a b+c(1).bin', query: [['versionId', 'x y']] },
      { range: 'bytes=0-9' },
    );
    expect(r.url).toBe('http://127.0.0.1:9000/b/dir/a%20b%2Bc%281%29.bin?versionId=x%20y');
    expect(r.headers).toMatchObject({
      host: '127.0.0.1:9000',
      range: 'bytes=0-9',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    expect(r.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-west-1\/s3\/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
  });

  it('uses virtual-hosted style on AWS itself when the bucket name allows, path style otherwise', async () => {
    const up = createS3UpstreamSigner(keys);
    expect(up.origin).toBe('https://s3.eu-west-1.amazonaws.com');
    expect((await up.sign('HEAD', { bucket: 'data', key: 'k', query: [] }, {})).url).toBe(
      'https://data.s3.eu-west-1.amazonaws.com/k',
    );
    expect((await up.sign('HEAD', { bucket: 'my.data', key: 'k', query: [] }, {})).url).toBe(
      'https://s3.eu-west-1.amazonaws.com/my.data/k',
    );
    expect((await up.sign('GET', { bucket: '', key: '', query: [] }, {})).url).toBe(
      'https://s3.eu-west-1.amazonaws.com/',
    );
  });

  it('keeps a payload hash it is given (a reader’s streamed upload) and adds the session token', async () => {
    const up = createS3UpstreamSigner({
      ...keys,
      AWS_SESSION_TOKEN: 'tok',
      AWS_ENDPOINT_URL_S3: 'http://h:1',
    });
    const r = await up.sign(
      'PUT',
      { bucket: 'b', key: 'k', query: [] },
      { 'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' },
    );
    expect(r.headers).toMatchObject({
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-security-token': 'tok',
    });
  });
});
