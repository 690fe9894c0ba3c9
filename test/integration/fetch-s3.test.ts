// `sluice fetch s3://...` and the `fetch` algorithm against s3rver (S3 REST on 127.0.0.1): ranged
// GetObject through the ObjectStore port (the same fast S3 path as `cp`), extraction, 404 and a
// replaced object.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3BulkStore } from '../../shared/adapters/aws/s3-bulk-store.ts';
import { S3FastPath } from '../../shared/adapters/aws/s3-fast-path.ts';
import { createFetchAlgorithm } from '../../shared/io/algorithms/fetch.ts';
import { S3Source } from '../../shared/io/fetch/s3-source.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { runCli } from '../helpers/cli.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

let s3: S3rverHandle;
let work: string;
let store: ObjectStore;
const blob = randomBytes(900 * 1024);

beforeAll(async () => {
  s3 = await startS3rver(['fetch-test']);
  // The SDK's default credential chain reads process.env (this file runs in its own worker).
  Object.assign(process.env, s3.env);
  store = s3.store();
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-s3-'));
  await mkdir(path.join(work, 'src', 'data'), { recursive: true });
  await writeFile(path.join(work, 'src', 'data', 'blob.bin'), blob);
  await writeFile(path.join(work, 'src', 'data', 'note.txt'), 'from s3\n');
  execFileSync('sh', ['-c', `tar -c -C ${work}/src data | lz4 -q -c > ${work}/data.tar.lz4`]);
  await store.put('fetch-test', 'sets/data.tar.lz4', await readFile(path.join(work, 'data.tar.lz4')));
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

describe('fetch from S3 (s3rver)', () => {
  it('sluice fetch s3://bucket/key extracts with ranged GetObject, through the fast S3 path', async () => {
    const dest = path.join(work, 'cli-out');
    const fastGets = vi.spyOn(S3FastPath.prototype, 'get');
    const r = await runCli(
      ['fetch', 's3://fetch-test/sets/data.tar.lz4', '-C', dest, '--chunk-size', '64K', '--json'],
      {
        env: s3.env,
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ compression: 'lz4', files: 2, parallel: true });
    expect(summary.requests).toBeGreaterThan(2);
    expect((await readFile(path.join(dest, 'data', 'blob.bin'))).equals(blob)).toBe(true);
    // Every ranged GET went the lean way `cp` uses (the SDK answers only what it declines).
    expect(fastGets.mock.calls.length).toBe(summary.requests - 1);
    expect(await Promise.all(fastGets.mock.results.map((r) => r.value))).not.toContain(undefined);
    fastGets.mockRestore();
  });

  it('a missing key: exit 1 and a clear message', async () => {
    const r = await runCli(['fetch', 's3://fetch-test/nope.tar', '-C', path.join(work, 'none')], {
      env: s3.env,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('sluice: s3://fetch-test/nope.tar: not found\n');
  });

  it('the fetch algorithm preloads a dataset through ctx.objectStores, never loading the SDK', async () => {
    const algo = createFetchAlgorithm({ cwd: () => work });
    const fast = new S3FastPath({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: async () => 'us-east-1',
      credentials: async () => ({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
    });
    const noSdk = new S3BulkStore(() => Promise.reject(new Error('the SDK was loaded')), fast);
    const logs: string[] = [];
    const result = (await algo.run(
      [{ url: 's3://fetch-test/sets/data.tar.lz4', dest: 'preload', chunkSize: '128K' }],
      {
        signal: new AbortController().signal,
        env: s3.env,
        log: (l) => logs.push(l),
        objectStores: { s3: async () => noSdk },
      },
    )) as { files: number; output: string };
    expect(result.files).toBe(2);
    expect(result.output).toBe(path.join(work, 'preload'));
    expect(await readFile(path.join(work, 'preload', 'data', 'note.txt'), 'utf8')).toBe('from s3\n');
    expect(logs[0]).toMatch(/^fetch s3:\/\/fetch-test\/sets\/data.tar.lz4 -> /);
  });

  it.each([
    ['the SDK store', () => store],
    ['the bulk store (fast path)', () => s3.bulkStore()],
  ])('an object replaced between requests is an error (ETag), not a mixed download: %s', async (_, make) => {
    await store.put('fetch-test', 'moving.bin', randomBytes(64 * 1024));
    const source = new S3Source('s3://fetch-test/moving.bin', make());
    const signal = new AbortController().signal;
    const info = await source.probe(signal);
    await store.put('fetch-test', 'moving.bin', randomBytes(64 * 1024));
    await expect(source.open({ start: 0, end: 1023 }, info, signal)).rejects.toThrow(
      /s3:\/\/fetch-test\/moving.bin changed during the download/,
    );
  });
});
