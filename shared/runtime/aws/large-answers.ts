// Lambda stops a synchronous response at 6 MB, so the api function cannot return the results of a
// large batch or a long task list inline. An answer over the limit is written to the blob bucket
// and answered with `303 See Other` to a presigned GET URL of it: the CLI and the Python client
// follow it (without their API credentials), and so do curl -L and browsers.
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { LARGE_ANSWER_PREFIX } from '../../adapters/aws/config.ts';
/** How long the presigned URL of an offloaded answer works. */
export const LARGE_ANSWER_URL_SECONDS = 900;

export interface LargeAnswerDeps {
  s3: S3Client;
  bucket: string;
  /** Largest answer returned inline: bytes of the whole Lambda response, as Lambda counts them. */
  maxBytes: number;
}

/** The answer as is when it fits, else a 303 to a presigned copy in the blob bucket. */
export async function answerOrRedirect(
  method: string,
  result: APIGatewayProxyResult,
  deps: LargeAnswerDeps,
): Promise<APIGatewayProxyResult> {
  if (method !== 'GET' || result.statusCode !== 200) return result;
  const size = Buffer.byteLength(JSON.stringify(result));
  if (size <= deps.maxBytes) return result;
  const key = `${LARGE_ANSWER_PREFIX}${new Date().toISOString().slice(0, 10)}/${randomUUID()}.json`;
  const contentType = String(result.headers?.['content-type'] ?? 'application/json; charset=utf-8');
  await deps.s3.send(
    new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: result.body, ContentType: contentType }),
  );
  const url = await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.bucket, Key: key }), {
    expiresIn: LARGE_ANSWER_URL_SECONDS,
  });
  return {
    statusCode: 303,
    headers: {
      location: url,
      'cache-control': 'no-store',
      'content-type': 'application/json; charset=utf-8',
    },
    body: JSON.stringify({
      location: url,
      bytes: Buffer.byteLength(result.body),
      expiresInSeconds: LARGE_ANSWER_URL_SECONDS,
    }),
  };
}
