// AWS-protocol emulators from npm, in this process on 127.0.0.1 (port 0): dynalite (DynamoDB),
// local-aws-sqs (SQS, patched for long polls by patches/) and s3rver (S3, files under `dir`).
// `sluice serve --backend aws --emulators` runs the AWS backend on them with no account and no
// Docker; the tests start them the same way. They are dev dependencies: a clone's `npm ci`.
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface LocalEmulators {
  /** Environment for the SDK (endpoints, region, credentials). */
  env: Record<string, string>;
  /** s3rver's event emitter (ObjectCreated notifications). */
  s3Events: NodeJS.EventEmitter;
  close(): Promise<void>;
}

/** Region, the emulators' credentials, and checksums only where required (s3rver predates them). */
export const EMULATOR_ENV_BASE = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
  AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
};

const listenPort = (server: Server) => (server.address() as AddressInfo).port;

async function load<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch {
    throw new Error(
      `the AWS emulators are dev dependencies (${name} is not installed): run \`npm ci\` in the Sluice clone`,
    );
  }
}

/** Starts the three emulators; S3 objects live under `dir` (a temp dir, removed on close, by default). */
export async function startLocalEmulators(opts: { dir?: string } = {}): Promise<LocalEmulators> {
  const { default: dynalite } = await load<{ default: (o: object) => Server }>('dynalite');
  const { createSqsServer } = await load<typeof import('local-aws-sqs')>('local-aws-sqs');
  const { default: S3rver } = await load<{
    default: new (
      o: object,
    ) => NodeJS.EventEmitter & {
      run(): Promise<AddressInfo>;
      close(): Promise<void>;
    };
  }>('s3rver');
  const ddb = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => ddb.listen(0, '127.0.0.1', () => r()));
  const sqs = await createSqsServer({ port: 0, hostname: '127.0.0.1', emulateQueueCreationLifecycle: false });
  if (!sqs.listening) await new Promise<void>((r) => sqs.once('listening', () => r()));
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'sluice-s3rver-'));
  const s3 = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const s3addr = await s3.run();
  return {
    env: {
      ...EMULATOR_ENV_BASE,
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${listenPort(ddb)}`,
      AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${listenPort(sqs)}`,
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${s3addr.port}`,
    },
    s3Events: s3,
    async close() {
      await s3.close();
      await new Promise<void>((r) => sqs.close(() => r()));
      sqs.closeAllConnections?.();
      await new Promise<void>((r) => ddb.close(() => r()));
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
