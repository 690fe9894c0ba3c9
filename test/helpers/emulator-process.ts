// One AWS-protocol emulator in its own process (benchmarks: each gets a core): prints
// {"port": N} once listening and runs until killed. Usage: emulator-process.ts dynamodb|sqs|s3 [dir]
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const kind = process.argv[2];
let port: number;
if (kind === 'dynamodb') {
  const { default: dynalite } = (await import('dynalite')) as { default: (o: object) => Server };
  const s = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  port = (s.address() as AddressInfo).port;
} else if (kind === 'sqs') {
  const { createSqsServer } = await import('local-aws-sqs');
  const s = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  if (!s.listening) await new Promise<void>((r) => s.once('listening', () => r()));
  port = (s.address() as AddressInfo).port;
} else if (kind === 's3') {
  const { default: S3rver } = (await import('s3rver')) as {
    default: new (o: object) => { run(): Promise<AddressInfo> };
  };
  const s = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: process.argv[3] });
  port = (await s.run()).port;
} else {
  throw new Error(`unknown emulator "${kind}" (dynamodb, sqs or s3)`);
}
process.stdout.write(`${JSON.stringify({ port })}\n`);
