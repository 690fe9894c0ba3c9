// The one seam between shared/io and the S3 adapter: loaded lazily, so local-only runs never load
// it, and shared/io itself stays SDK-free (the bulk store loads the AWS SDK, ~0.1 s of start-up,
// only when a request needs it). Tests and other hosts pass their own ObjectStore instead.
import type { ObjectStore } from '../ports/object-store.ts';

export async function loadObjectStore(env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  const { createBulkS3ObjectStore } = await import('../adapters/aws/s3-bulk-store.ts');
  return createBulkS3ObjectStore(env);
}
