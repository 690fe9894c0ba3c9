// One place that builds S3 clients from the standard AWS environment (credential chain, region,
// AWS_ENDPOINT_URL_S3), plus what custom endpoints (LocalStack, emulators, MinIO) need.
import { S3Client } from '@aws-sdk/client-s3';

export interface S3ClientOptions {
  /** Sockets per client: IO commands keep many requests in flight. */
  maxSockets?: number;
}

/** True when requests go somewhere other than AWS itself (an emulator, LocalStack, MinIO). */
export function hasCustomS3Endpoint(env: NodeJS.ProcessEnv): boolean {
  const ep = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return Boolean(ep) && !/amazonaws\.com/.test(ep ?? '');
}

export function createS3Client(env: NodeJS.ProcessEnv = process.env, opts: S3ClientOptions = {}): S3Client {
  const custom = hasCustomS3Endpoint(env);
  // Path-style has no SDK environment variable; custom endpoints nearly always need it.
  const forcePathStyle = env.SLUICE_S3_FORCE_PATH_STYLE ? env.SLUICE_S3_FORCE_PATH_STYLE === '1' : custom;
  // Emulators store a streamed body WITH its aws-chunked framing when the SDK adds default
  // checksums (silent corruption); only send/validate checksums when the operation requires them.
  const checksum = custom ? 'WHEN_REQUIRED' : undefined;
  const maxSockets = opts.maxSockets ?? 256;
  // Keys in `env` win, as the SDK's env provider (first in the default chain) would do for
  // process.env; this makes an injected env (tests, CLI contexts) authoritative.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  // The SDK reads AWS_ENDPOINT_URL_S3 from process.env only; an injected env must work the same.
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  return new S3Client({
    ...(credentials ? { credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle,
    ...(checksum && !env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: checksum } : {}),
    ...(checksum && !env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: checksum } : {}),
    requestHandler: {
      httpAgent: { keepAlive: true, maxSockets },
      httpsAgent: { keepAlive: true, maxSockets },
    },
  });
}
