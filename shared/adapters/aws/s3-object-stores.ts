// The AWS side of the ObjectStores port, and the one way Sluice builds an S3 store for bulk IO:
// createBulkS3ObjectStore (the lean fast path for the requests made by the thousand, the SDK for
// the rest). `cp`, `zip`, `rm` and `fetch` get it alike, from the CLI and in the built-in host.
import type { ObjectStore, ObjectStores } from '../../ports/object-store.ts';

/** Object stores configured from the standard AWS environment (see s3-env.ts). */
export function createAwsObjectStores(env: NodeJS.ProcessEnv = process.env): ObjectStores {
  let s3: Promise<ObjectStore> | undefined;
  return {
    s3() {
      // Loaded on first need: a run over local paths loads neither the fast path nor the SDK.
      s3 ??= import('./s3-bulk-store.ts').then((m) => m.createBulkS3ObjectStore(env));
      return s3;
    },
  };
}
