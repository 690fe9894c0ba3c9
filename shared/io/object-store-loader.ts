// The one seam between shared/io and the S3 adapter: loaded lazily, so local-only runs never load
// the AWS SDK (it costs ~100 ms of start-up) and shared/io itself stays SDK-free. Tests and other
// hosts pass their own ObjectStore instead.
import type { ObjectStore } from '../ports/object-store.ts';

export async function loadObjectStore(env: NodeJS.ProcessEnv = process.env): Promise<ObjectStore> {
  const [{ S3ObjectStore }, { createS3Client }] = await Promise.all([
    import('../adapters/aws/s3-object-store.ts'),
    import('../adapters/aws/s3-client.ts'),
  ]);
  return new S3ObjectStore(createS3Client(env));
}
