// One place that builds S3 clients from the standard AWS environment (credential chain, region,
// AWS_ENDPOINT_URL_S3), plus what custom endpoints (LocalStack, emulators, MinIO) need.
import { S3Client } from '@aws-sdk/client-s3';
import {
  credentialsFromEnv,
  forcePathStyleFromEnv,
  hasCustomS3Endpoint,
  regionFromEnv,
  s3EndpointFromEnv,
} from './s3-env.ts';

export interface S3ClientOptions {
  /** Sockets per client: IO commands keep many requests in flight. */
  maxSockets?: number;
}

export function createS3Client(env: NodeJS.ProcessEnv = process.env, opts: S3ClientOptions = {}): S3Client {
  const custom = hasCustomS3Endpoint(env);
  const forcePathStyle = forcePathStyleFromEnv(env);
  // Emulators store a streamed body WITH its aws-chunked framing when the SDK adds default
  // checksums (silent corruption); only send/validate checksums when the operation requires them.
  const checksum = custom ? 'WHEN_REQUIRED' : undefined;
  const maxSockets = opts.maxSockets ?? 256;
  // Keys in `env` win, as the SDK's env provider (first in the default chain) would do for
  // process.env; this makes an injected env (tests, CLI contexts) authoritative.
  const credentials = credentialsFromEnv(env);
  // The SDK reads AWS_ENDPOINT_URL_S3 from process.env only; an injected env must work the same.
  const endpoint = s3EndpointFromEnv(env);
  return new S3Client({
    ...(credentials ? { credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
    region: regionFromEnv(env),
    forcePathStyle,
    ...(checksum && !env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: checksum } : {}),
    ...(checksum && !env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: checksum } : {}),
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets },
      httpsAgent: { keepAlive: true, maxSockets },
    },
  });
}
