// What the standard AWS environment says about S3 — endpoint, region, path-style, keys — read
// without the SDK, so the bulk IO store can start its requests before (or without) loading it.

/** Part size of multipart uploads; a buffer up to this size goes up as one PutObject. */
export const DEFAULT_PART_SIZE = 8 * 1024 * 1024;

export interface EnvCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL (the SDK's own order); undefined means AWS itself. */
export function s3EndpointFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
}

/** True when requests go somewhere other than AWS itself (an emulator, LocalStack, MinIO). */
export function hasCustomS3Endpoint(env: NodeJS.ProcessEnv): boolean {
  const ep = s3EndpointFromEnv(env);
  return Boolean(ep) && !/amazonaws\.com/.test(ep ?? '');
}

/** Path-style has no SDK environment variable; custom endpoints nearly always need it. */
export function forcePathStyleFromEnv(env: NodeJS.ProcessEnv): boolean {
  return env.SLUICE_S3_FORCE_PATH_STYLE ? env.SLUICE_S3_FORCE_PATH_STYLE === '1' : hasCustomS3Endpoint(env);
}

/** AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1 (S3 redirects to the bucket's region). */
export function regionFromEnv(env: NodeJS.ProcessEnv): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

/**
 * Keys given in the environment, which win as the SDK's env provider (first in its default chain)
 * would; undefined means "ask the SDK's credential chain" (profiles, SSO, container, IMDS...).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): EnvCredentials | undefined {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  return {
    accessKeyId: env.AWS_ACCESS_KEY_ID,
    secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
    ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
  };
}
