// Starts s3rver (an S3 emulator) in-process on 127.0.0.1, port 0, with its own data directory, and
// builds S3 clients/stores for it. Listings stay under 1000 keys in tests: s3rver's paged
// ListObjectsV2 needs Node's --openssl-legacy-provider (its continuation tokens use DES).
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { createBulkS3ObjectStore, type S3BulkStore } from '../../shared/adapters/aws/s3-bulk-store.ts';
import { createS3Client } from '../../shared/adapters/aws/s3-client.ts';
import { S3ObjectStore } from '../../shared/adapters/aws/s3-object-store.ts';

export interface S3rverHandle {
  endpoint: string;
  /** Environment for clients/child processes: endpoint, region, S3RVER credentials, checksums. */
  env: NodeJS.ProcessEnv;
  store(env?: NodeJS.ProcessEnv): S3ObjectStore;
  /** The store the IO commands use (lean GETs with SDK fallback). */
  bulkStore(env?: NodeJS.ProcessEnv): S3BulkStore;
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[] = []): Promise<S3rverHandle> {
  const directory = await mkdtemp(join(tmpdir(), 'sluice-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${addr.port}`;
  const env: NodeJS.ProcessEnv = {
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    endpoint,
    env,
    store: (over: NodeJS.ProcessEnv = {}) =>
      new S3ObjectStore(createS3Client({ ...env, ...over }, { maxSockets: 64 })),
    bulkStore: (over: NodeJS.ProcessEnv = {}) => createBulkS3ObjectStore({ ...env, ...over }),
    close: async () => {
      await new Promise<void>((resolve) => (server.httpServer as Server).close(() => resolve()));
      await rm(directory, { recursive: true, force: true });
    },
  };
}
