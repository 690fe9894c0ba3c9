// Code upload and algorithm versions on the AWS path against the emulators: the api function behind
// HTTP (multipart bodies reach it base64-encoded, as through API Gateway with binary media types),
// the archive kept in S3 (s3rver), versions in the registry table (dynalite), and the worker
// container's entry point in a process fetching the code from S3 (algorithm-versions-scenario.ts).
import { afterAll, beforeAll, it } from 'vitest';
import { type LocalAwsStack, startLocalAwsStack } from '../../../shared/runtime/aws-emulated/stack.ts';
import { startAwsTestBed } from '../../helpers/aws-emulators.ts';
import { largeArchiveScenario, versionsScenario } from '../algorithm-versions-scenario.ts';

const TOKEN = 'v'.repeat(43);
let bed: Awaited<ReturnType<typeof startAwsTestBed>>;
let stack: LocalAwsStack;

beforeAll(async () => {
  bed = await startAwsTestBed('versions');
  stack = await startLocalAwsStack({
    env: { ...process.env, ...bed.env },
    http: { port: 0, host: '127.0.0.1', guard: { boundHost: '127.0.0.1', token: TOKEN } },
    slots: 2,
    workerProcess: true,
    s3PollMs: 0,
    onError: () => {},
  });
}, 60_000);

afterAll(async () => {
  await stack?.close();
  await bed?.close();
});

it('uploads code to S3, runs it on the worker, applies v2, restores v1; jobs keep their version', async () => {
  await versionsScenario({
    url: stack.url as string,
    headers: { authorization: `Bearer ${TOKEN}` },
    env: { SLUICE_API_TOKEN: TOKEN },
  });
}, 180_000);

it('an archive over the API Gateway/Lambda request limit goes to S3 through a presigned URL', async () => {
  await largeArchiveScenario(
    {
      url: stack.url as string,
      headers: { authorization: `Bearer ${TOKEN}` },
      env: { SLUICE_API_TOKEN: TOKEN },
    },
    true,
  );
}, 120_000);
