// A presigned S3 PUT URL (SigV4 in the query, UNSIGNED-PAYLOAD), made with the client's own
// region, credentials and endpoint, as @aws-sdk/s3-request-presigner does: the code upload's way
// around API Gateway's and Lambda's request limits (the client PUTs the archive straight to S3).
import type { S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from './api-request-signer.ts';

export async function presignPut(
  s3: S3Client,
  bucket: string,
  key: string,
  expiresInSeconds: number,
): Promise<string> {
  const region = await s3.config.region();
  const custom = s3.config.endpoint ? await s3.config.endpoint() : undefined;
  const escaped = key.split('/').map(encodeURIComponent).join('/');
  let protocol = 'https:';
  let hostname = `${bucket}.s3.${region}.amazonaws.com`;
  let port: number | undefined;
  let path = `/${escaped}`;
  if (custom) {
    protocol = custom.protocol;
    port = custom.port;
    const base = (custom.path ?? '').replace(/\/$/, '');
    if (s3.config.forcePathStyle) {
      hostname = custom.hostname;
      path = `${base}/${bucket}/${escaped}`;
    } else {
      hostname = `${bucket}.${custom.hostname}`;
      path = `${base}/${escaped}`;
    }
  }
  const host = port !== undefined ? `${hostname}:${port}` : hostname;
  const signer = new SignatureV4({
    service: 's3',
    region,
    credentials: s3.config.credentials,
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const signed = await signer.presign(
    {
      method: 'PUT',
      protocol,
      hostname,
      ...(port !== undefined ? { port } : {}),
      path,
      query: {},
      headers: { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    { expiresIn: expiresInSeconds, unsignableHeaders: new Set(['content-type']) },
  );
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(signed.query ?? {})) {
    for (const one of [v].flat()) if (one !== null && one !== undefined) query.append(k, one);
  }
  return `${protocol}//${host}${path}?${query.toString()}`;
}
