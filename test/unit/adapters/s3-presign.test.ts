// The presigned PUT URL of the code upload: the shape S3 expects (virtual-hosted on AWS, path
// style on an emulator endpoint), SigV4 in the query over the host header only (UNSIGNED-PAYLOAD),
// and the expiry asked for. (The emulator path PUTs through it: algorithm-versions-aws.test.ts.)
import { S3Client } from '@aws-sdk/client-s3';
import { expect, it } from 'vitest';
import { presignPut } from '../../../shared/adapters/aws/s3-presign.ts';

const credentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

it('on AWS: https://<bucket>.s3.<region>.amazonaws.com/<key> with SigV4 query parameters', async () => {
  const url = new URL(
    await presignPut(new S3Client({ region: 'eu-west-1', credentials }), 'code-bucket', 'uploads/abc', 900),
  );
  expect(url.origin).toBe('https://code-bucket.s3.eu-west-1.amazonaws.com');
  expect(url.pathname).toBe('/uploads/abc');
  const q = Object.fromEntries(url.searchParams);
  expect(q['X-Amz-Algorithm']).toBe('AWS4-HMAC-SHA256');
  expect(q['X-Amz-Credential']).toMatch(/^AKIAIOSFODNN7EXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request$/);
  expect(q['X-Amz-Expires']).toBe('900');
  expect(q['X-Amz-SignedHeaders']).toBe('host');
  // The payload is signed as UNSIGNED-PAYLOAD, what S3 assumes for query authentication (the
  // signer drops the header, as for the SDK's own presigner).
  expect(q['X-Amz-Content-Sha256']).toBeUndefined();
  expect(q['X-Amz-Signature']).toMatch(/^[0-9a-f]{64}$/);
});

it('on an emulator endpoint with path style: <endpoint>/<bucket>/<key>', async () => {
  const s3 = new S3Client({
    region: 'us-east-1',
    credentials,
    endpoint: 'http://127.0.0.1:4569',
    forcePathStyle: true,
  });
  const url = new URL(await presignPut(s3, 'b', 'uploads/x', 60));
  expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:4569/b/uploads/x');
  expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
});
