// The one seam between shared/io and the S3 adapter: loaded lazily, so local-only runs never load
// the AWS SDK (it costs ~100 ms of start-up) and shared/io itself stays SDK-free. Tests and other
// hosts pass their own ObjectStore instead.
import type { ObjectStore } from '../ports/object-store.ts';

export async function loadObjectStore(env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  const { createBulkS3ObjectStore } = await import('../adapters/aws/s3-object-store.ts');
  return createBulkS3ObjectStore(env);
}
