// The IO algorithms in a pipeline, end to end through the embedded engine and its real worker
// pool (built-in host processes): a batch of copies, a zip that waits for them, a fetch, and the
// s3:// stores the host composes in (against s3rver).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workers } from '../../shared/api/workers.ts';
import { LocalEngine } from '../../shared/runtime/embedded/local-engine.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';

let dir: string;
let engine: LocalEngine;
let s3: S3rverHandle;

beforeAll(async () => {
  s3 = await startS3rver(['io-pipe']);
  // The built-in hosts inherit this process's environment: the S3 endpoint and keys.
  Object.assign(process.env, s3.env);
  dir = mkdtempSync(join(tmpdir(), 'sluice-io-pipeline-'));
  for (const [p, text] of [
    ['src/a/one.txt', 'one'],
    ['src/a/deep/two.txt', 'two'],
    ['src/b/three.txt', 'three'],
  ] as const) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  execFileSync('tar', ['-czf', join(dir, 'src.tar.gz'), '-C', join(dir, 'src'), '.']);
  engine = await LocalEngine.open({ home: join(dir, 'home'), workers: 2 });
  engine.start();
});

afterAll(async () => {
  await engine?.close();
  await s3?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('IO algorithms in a pipeline', () => {
  it('copies a batch of trees, zips the result after them, and fetches a tar.gz', async () => {
    const job = await engine.coordinator.submit({
      name: 'io-pipeline',
      flowInput: {
        copies: [
          { src: join(dir, 'src/a'), dst: join(dir, 'out/a') },
          { src: join(dir, 'src/b'), dst: join(dir, 'out/b') },
        ],
        out: join(dir, 'out'),
        zip: join(dir, 'out.zip'),
        archive: join(dir, 'src.tar.gz'),
        unpacked: join(dir, 'unpacked'),
      },
      nodes: [
        { nodeName: 'Copy', algorithmName: 'cp', input: ['#@flowInput.copies'] },
        {
          nodeName: 'Zip',
          algorithmName: 'zip',
          input: [{ src: '@flowInput.out', dst: '@flowInput.zip' }, '@Copy'],
        },
        {
          nodeName: 'Fetch',
          algorithmName: 'fetch',
          input: [{ url: '@flowInput.archive', dest: '@flowInput.unpacked' }],
        },
      ],
    });
    const final = await engine.waitForJob(job.jobId);
    expect(final.reason).toBeUndefined();
    expect(final.status).toBe('completed');
    expect(readFileSync(join(dir, 'out/a/deep/two.txt'), 'utf8')).toBe('two');
    expect(readFileSync(join(dir, 'out/b/three.txt'), 'utf8')).toBe('three');
    expect(readFileSync(join(dir, 'unpacked/a/one.txt'), 'utf8')).toBe('one');
    const test = execFileSync('unzip', ['-t', join(dir, 'out.zip')], { encoding: 'utf8' });
    expect(test).toMatch(/No errors detected/);
    const listing = execFileSync('unzip', ['-Z1', join(dir, 'out.zip')], { encoding: 'utf8' }).split('\n');
    expect(listing).toEqual(
      expect.arrayContaining(['out/a/one.txt', 'out/a/deep/two.txt', 'out/b/three.txt']),
    );
    const copies = await engine.tasks.nodeResults(job.jobId, 'Copy');
    expect(copies.map((c) => (c.result as { files: number }).files)).toEqual([2, 1]);
    // The workers view counts the bytes each IO task reported (GET /api/v1/workers).
    let reported = 0;
    for (const node of ['Copy', 'Zip', 'Fetch'])
      for (const r of await engine.tasks.nodeResults(job.jobId, node))
        reported += (r.result as { bytes: number }).bytes;
    expect(reported).toBeGreaterThan(3 + 3 + 5);
    const activity = await workers(engine.service.deps);
    expect(activity.ioBytes).toBe(reported);
    expect(activity.ioBytesPerSecond).toBeGreaterThan(0);
  });

  it('copies to and from s3:// and fetches from it: the host hands the algorithms the AWS stores', async () => {
    const run = async (nodes: { nodeName: string; algorithmName: string; input: unknown[] }[]) => {
      const job = await engine.coordinator.submit({ name: 'io-s3', nodes });
      const final = await engine.waitForJob(job.jobId);
      expect(final.reason).toBeUndefined();
      expect(final.status).toBe('completed');
    };
    await run([
      { nodeName: 'Up', algorithmName: 'cp', input: [{ src: join(dir, 'src/a'), dst: 's3://io-pipe/a' }] },
      {
        nodeName: 'Tarball',
        algorithmName: 'cp',
        input: [{ src: join(dir, 'src.tar.gz'), dst: 's3://io-pipe/src.tar.gz' }],
      },
    ]);
    await run([
      {
        nodeName: 'Down',
        algorithmName: 'cp',
        input: [{ src: 's3://io-pipe/a', dst: join(dir, 'from-s3') }],
      },
      {
        nodeName: 'Fetch',
        algorithmName: 'fetch',
        input: [{ url: 's3://io-pipe/src.tar.gz', dest: join(dir, 'fetched') }],
      },
    ]);
    expect(readFileSync(join(dir, 'from-s3/deep/two.txt'), 'utf8')).toBe('two');
    expect(readFileSync(join(dir, 'fetched/b/three.txt'), 'utf8')).toBe('three');
  });

  it('a bad input object fails the task with the field named', async () => {
    const job = await engine.coordinator.submit({
      name: 'io-bad',
      nodes: [
        {
          nodeName: 'Copy',
          algorithmName: 'cp',
          input: [{ source: '/x', dst: '/y' }],
          retry: { policy: 'Never', limit: 1 },
        },
      ],
    });
    const final = await engine.waitForJob(job.jobId);
    expect(final.status).toBe('failed');
    expect(final.reason).toMatch(/input\[0\]\.source is not a known field/);
  });
});
