// sluice cp / zip / rm against S3, on s3rver started in-process (127.0.0.1, port 0).
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3BulkStore } from '../../shared/adapters/aws/s3-bulk-store.ts';
import { S3FastPath } from '../../shared/adapters/aws/s3-fast-path.ts';
import { copyTree } from '../../shared/io/cp.ts';
import { removeTree } from '../../shared/io/rm.ts';
import { zipTree } from '../../shared/io/zip.ts';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { runCli } from '../helpers/cli.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';
import { makeSampleTree, tempDir } from '../helpers/tree.ts';

let s3: S3rverHandle;
let store: ObjectStore;
let dir: string;

beforeAll(async () => {
  s3 = await startS3rver(['io-test']);
  store = s3.store();
});
afterAll(async () => {
  await s3.close();
});
beforeEach(async () => {
  dir = await tempDir('s3');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.list('io-test', prefix)) out.push(...page.map((o) => o.key));
  return out.sort();
}

/** diff -r of a sample tree and its round trip through S3 (which keeps no symlinks). */
function sameTree(a: string, b: string): void {
  execFileSync('diff', ['-r', '--no-dereference', '-x', 'link-to-f1', '-x', 'dangling', a, b]);
}

describe('cp with s3:// (s3rver)', () => {
  it('uploads a tree and downloads it back byte-identically; empty dirs survive, symlinks are noted', async () => {
    await makeSampleTree(join(dir, 'src'));
    const up = await copyTree([join(dir, 'src')], 's3://io-test/t1', { store });
    expect(up.failures).toEqual([]);
    expect(up.files).toBe(32);
    expect(up.notes?.join('\n')).toMatch(/link-to-f1: symlink not copied/);
    const k = await keys('t1/');
    expect(k).toContain('t1/a/b/c/deep.bin');
    expect(k).toContain('t1/empty/');
    const head = await store.head('io-test', 't1/a/f3.txt');
    expect(Number(head.metadata?.mtime)).toBe(Date.parse('2001-02-03T04:05:06Z') / 1000);

    const down = await copyTree(['s3://io-test/t1'], join(dir, 'back'), { store: s3.bulkStore() });
    expect(down.failures).toEqual([]);
    expect(down.files).toBe(32);
    expect((await stat(join(dir, 'back/empty'))).isDirectory()).toBe(true);
    sameTree(join(dir, 'src'), join(dir, 'back'));
  });

  it('downloads without loading the SDK when the environment has the keys; mtimes are LastModified', async () => {
    await makeSampleTree(join(dir, 'src'));
    await copyTree([join(dir, 'src')], 's3://io-test/nosdk', { store });
    const fast = new S3FastPath({
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: async () => 'us-east-1',
      credentials: async () => ({ accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }),
    });
    const noSdk = new S3BulkStore(() => Promise.reject(new Error('the SDK was loaded')), fast);
    const down = await copyTree(['s3://io-test/nosdk'], join(dir, 'back'), { store: noSdk });
    expect(down.failures).toEqual([]);
    expect(down.files).toBe(32);
    sameTree(join(dir, 'src'), join(dir, 'back'));
    // Files take the object's LastModified (what --update compares with a listing).
    const head = await store.head('io-test', 'nosdk/a/f3.txt');
    expect((await stat(join(dir, 'back/a/f3.txt'))).mtimeMs).toBe(head.mtime!.getTime());
    const again = await copyTree(['s3://io-test/nosdk'], join(dir, 'back'), {
      store: noSdk,
      update: true,
      noTargetDirectory: true,
    });
    expect(again).toMatchObject({ files: 0, skipped: 32, failures: [] });
    // An empty object goes the same inline way.
    await store.put('io-test', 'zero/empty.bin', Buffer.alloc(0));
    const zero = await copyTree(['s3://io-test/zero'], join(dir, 'zero'), { store: noSdk });
    expect(zero).toMatchObject({ files: 1, failures: [] });
    expect((await stat(join(dir, 'zero/empty.bin'))).size).toBe(0);
  });

  it('moves a large file as a multipart upload and parallel ranged GETs', async () => {
    const big = Buffer.alloc(18 * 1024 * 1024 + 5);
    for (let i = 0; i < big.length; i += 1024) big.writeUInt32LE(i, i);
    await writeFile(join(dir, 'big.bin'), big);
    const up = await copyTree([join(dir, 'big.bin')], 's3://io-test/big/', { store, maxMemory: 16 << 20 });
    expect(up.failures).toEqual([]);
    expect((await store.head('io-test', 'big/big.bin')).size).toBe(big.length);
    const down = await copyTree(['s3://io-test/big/big.bin'], join(dir, 'copy.bin'), {
      store: s3.bulkStore(),
    });
    expect(down.failures).toEqual([]);
    expect((await readFile(join(dir, 'copy.bin'))).equals(big)).toBe(true);
  });

  it('re-uploads nothing with update, and copies server-side between prefixes', async () => {
    await makeSampleTree(join(dir, 'src'));
    await copyTree([join(dir, 'src')], 's3://io-test/t2', { store });
    const again = await copyTree([join(dir, 'src')], 's3://io-test/t2', { store, update: true });
    expect(again).toMatchObject({ files: 0, skipped: 32 });
    const cp = await copyTree(['s3://io-test/t2'], 's3://io-test/t3/', { store });
    expect(cp.failures).toEqual([]);
    expect(await keys('t3/t2/')).toEqual((await keys('t2/')).map((k) => `t3/${k}`));
  });

  it('reports a missing bucket and bad credentials clearly', async () => {
    await writeFile(join(dir, 'f'), 'f');
    const nb = await copyTree([join(dir, 'f')], 's3://no-such-bucket/x', { store });
    expect(nb.failures[0]!.message).toMatch(/bucket "no-such-bucket" does not exist/);
    const denied = await copyTree([join(dir, 'f')], 's3://io-test/x', {
      store: s3.store({ AWS_ACCESS_KEY_ID: 'WRONG', AWS_SECRET_ACCESS_KEY: 'WRONG' }),
    });
    expect(denied.failures[0]!.message).toMatch(
      /access denied|InvalidAccessKeyId|does not exist in our records/i,
    );
    const missing = await copyTree(['s3://io-test/nothing-here'], join(dir, 'x'), { store });
    expect(missing.failures[0]!.message).toMatch(/no such object or prefix/);
    await expect(stat(join(dir, 'x'))).rejects.toMatchObject({ code: 'ENOENT' });
    await mkdir(join(dir, 'y'));
    const bulk = await copyTree(['s3://no-such-bucket/p', 's3://io-test/nothing-here/'], join(dir, 'y'), {
      store: s3.bulkStore(),
    });
    expect(bulk.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/bucket "no-such-bucket" does not exist/),
      expect.stringMatching(/no such object or prefix: s3:\/\/io-test\/nothing-here\//),
    ]);
  });
});

describe('rm and zip with s3:// (s3rver)', () => {
  it('rm removes the prefix and everything under it, never sibling prefixes', async () => {
    for (const k of ['r/run1', 'r/run1/a', 'r/run1/b/c', 'r/run10', 'r/run1-x/y'])
      await store.put('io-test', k, Buffer.from(k));
    const s = await removeTree(['s3://io-test/r/run1'], { store });
    expect(s.failures).toEqual([]);
    expect(s.files).toBe(3);
    expect(await keys('r/')).toEqual(['r/run1-x/y', 'r/run10']);
    await expect(removeTree(['s3://io-test'], { store })).rejects.toThrow(/whole bucket/);
  });

  it('zip streams its output to S3 as a valid zip', async () => {
    await makeSampleTree(join(dir, 'src'));
    const s = await zipTree('s3://io-test/z/out.zip', [join(dir, 'src')], { store, sort: true });
    expect(s.failures).toEqual([]);
    await copyTree(['s3://io-test/z/out.zip'], join(dir, 'out.zip'), { store });
    expect(execFileSync('unzip', ['-t', join(dir, 'out.zip')]).toString()).toContain('No errors detected');
  });

  it('the CLI builds its S3 client from the environment (AWS_ENDPOINT_URL_S3, keys)', async () => {
    await makeSampleTree(join(dir, 'src'));
    const r = await runCli(['cp', '--json', 'src', 's3://io-test/cli/'], { cwd: dir, env: s3.env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).files).toBe(32);
    const bad = await runCli(['rm', '-r', 's3://no-such-bucket/x'], { cwd: dir, env: s3.env });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not exist/);
  });
});
