// One AWS-protocol emulator in its own process (benchmarks: each gets a core): prints
// {"port": N} once listening and runs until killed. Usage: emulator-process.ts dynamodb|sqs|s3 [dir]
// It counts the requests it serves by operation and, on SIGUSR2, writes the counts as JSON to
// emulatorRequestsFile(its pid) (the benchmarks' calls per task).
import { renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emulatorRequestsFile } from './emulator-requests.ts';

const kind = process.argv[2];
const counts: Record<string, number> = Object.create(null);
const count = (req: IncomingMessage) => {
  // DynamoDB and SQS (JSON protocol) name the operation in X-Amz-Target; S3 by method.
  const target = req.headers['x-amz-target'];
  const op = typeof target === 'string' ? (target.split('.').pop() ?? target) : (req.method ?? '?');
  counts[op] = (counts[op] ?? 0) + 1;
};
process.on('SIGUSR2', () => {
  const file = emulatorRequestsFile(process.pid);
  writeFileSync(`${file}.tmp`, JSON.stringify(counts));
  renameSync(`${file}.tmp`, file); // never read half-written
});
// Ends through exit, so that `--cpu-prof` (NODE_OPTIONS) writes its profile.
process.on('SIGTERM', () => process.exit(0));
let port: number;
if (kind === 'dynamodb') {
  const { default: dynalite } = (await import('dynalite')) as { default: (o: object) => Server };
  const s = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  s.prependListener('request', count);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  port = (s.address() as AddressInfo).port;
} else if (kind === 'sqs') {
  const { createSqsServer } = await import('local-aws-sqs');
  const s = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  s.prependListener('request', count);
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
