// A minimal in-process s3rver on 127.0.0.1 for the fetch integration tests (the io branch has its
// own helper; this one is separate to avoid a merge collision).
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

// s3rver ships no types; this is the little of its API used here.
interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
const S3rver = createRequire(import.meta.url)('s3rver') as new (opts: object) => S3rverInstance;

export interface S3rverHandle {
  endpoint: string;
  /** Environment for createS3Client (credentials S3RVER/S3RVER, path-style, no default checksums). */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export async function startS3rver(buckets: string[]): Promise<S3rverHandle> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const addr = await server.run();
  const endpoint = `http://127.0.0.1:${addr.port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
    async close() {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
