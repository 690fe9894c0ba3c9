// s3rver (an S3 emulator, a dev dependency) in its own process, so that it has a core to itself
// as a remote endpoint would: `s3rver-process.ts DATA_DIR BUCKET...`, prints {"port": N}. Run
// with --openssl-legacy-provider: s3rver's paged ListObjectsV2 tokens use DES.
import type { AddressInfo } from 'node:net';
import S3rver from 's3rver';

const [directory, ...buckets] = process.argv.slice(2);
if (!directory) throw new Error('usage: s3rver-process.ts DATA_DIR BUCKET...');
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  configureBuckets: buckets.map((name) => ({ name })),
});
const { port } = (await server.run()) as AddressInfo;
process.stdout.write(`${JSON.stringify({ port })}\n`);
process.on('SIGTERM', () => process.exit(0));
