// Asks the ObjectStores provider for a store only when a location needs one (s3://), so an
// operation over local paths never loads the S3 adapter. Without a provider the operation itself
// reports that s3:// needs one.
import type { ObjectStore, ObjectStores } from '../ports/object-store.ts';
import { isS3Url } from './s3-url.ts';

export async function storeForLocations(
  locations: readonly string[],
  stores: ObjectStores | undefined,
): Promise<{ store?: ObjectStore }> {
  if (!stores || !locations.some(isS3Url)) return {};
  return { store: await stores.s3() };
}
