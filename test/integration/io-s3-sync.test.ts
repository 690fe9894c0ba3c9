// sluice sync / check / cp --dry-run --include --checksum with s3:// on s3rver (127.0.0.1, port 0),
// through the CLI as a user runs it.
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../shared/ports/object-store.ts';
import { runCli } from '../helpers/cli.ts';
import { type S3rverHandle, startS3rver } from '../helpers/s3rver.ts';
import { tempDir } from '../helpers/tree.ts';

let s3: S3rverHandle;
let store: ObjectStore;
let dir: string;

beforeAll(async () => {
  s3 = await startS3rver(['sync-test']);
  store = s3.store();
});
afterAll(async () => {
  await s3.close();
});
beforeEach(async () => {
  dir = await tempDir('s3sync');
  for (const [f, text] of Object.entries({
    'src/x.csv': 'x',
    'src/y.txt': 'yy',
    'src/a/z.csv': 'zzz',
    'src/tmp/t': 't',
  })) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), text);
  }
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const page of store.list('sync-test', prefix)) out.push(...page.map((o) => o.key));
  return out.sort();
}
const cli = (...args: string[]) => runCli(args, { cwd: dir, env: s3.env });

describe('sync and check with s3:// (s3rver)', () => {
  it('sync uploads what is missing, deletes extra objects, and check agrees; --dry-run first', async () => {
    await store.put('sync-test', 'up/extra.bin', Buffer.from('old'));
    await store.put('sync-test', 'up/gone/', Buffer.alloc(0));
    const dry = await cli('sync', '--dry-run', '--exclude', 'tmp/', 'src', 's3://sync-test/up');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('delete s3://sync-test/up/extra.bin\n');
    expect(dry.stdout).toContain('delete s3://sync-test/up/gone\n');
    expect(dry.stdout).toContain(`copy ${join(dir, 'src/a/z.csv')} -> s3://sync-test/up/a/z.csv (3 B)`);
    expect(await keys('up/')).toEqual(['up/extra.bin', 'up/gone/']);

    const r = await cli('sync', '--json', '--exclude', 'tmp/', 'src', 's3://sync-test/up');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 3, deleted: 2, failures: [] });
    expect(await keys('up/')).toEqual(['up/a/z.csv', 'up/x.csv', 'up/y.txt']);

    const same = await cli('check', '--exclude', 'tmp/', 'src', 's3://sync-test/up');
    expect(same.code, same.stdout).toBe(0);
    // Content: the ETag of a one-part upload is its MD5, so nothing is downloaded to compare.
    expect((await cli('check', '--checksum', '--exclude', 'tmp/', 'src', 's3://sync-test/up')).code).toBe(0);
    await writeFile(join(dir, 'src/x.csv'), 'X');
    const old = new Date(Date.now() - 3600_000);
    await utimes(join(dir, 'src/x.csv'), old, old); // older than the upload: size+mtime say "same"
    expect((await cli('check', '--exclude', 'tmp/', 'src', 's3://sync-test/up')).code).toBe(0);
    const changed = await cli('check', '--checksum', '--json', 'src', 's3://sync-test/up');
    expect(changed.code).toBe(1);
    expect(JSON.parse(changed.stdout)).toMatchObject({
      differ: ['x.csv'],
      missingOnDestination: ['tmp/t'],
      missingOnSource: [],
    });
    // cp --checksum sends only that one.
    const cp = await cli('cp', '--checksum', '--json', '--exclude', 'tmp/', '-T', 'src', 's3://sync-test/up');
    expect(JSON.parse(cp.stdout)).toMatchObject({ files: 1, skipped: 2 });
    expect((await store.head('sync-test', 'up/x.csv')).size).toBe(1);
  });

  it('sync downloads a prefix into a directory, deleting local extras; --include filters the download', async () => {
    await cli('cp', '-T', 'src', 's3://sync-test/down');
    await mkdir(join(dir, 'local'));
    await writeFile(join(dir, 'local/stale'), 's');
    const r = await cli('sync', '--json', 's3://sync-test/down', 'local');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 4, deleted: 1 });
    expect(await readFile(join(dir, 'local/a/z.csv'), 'utf8')).toBe('zzz');
    await expect(stat(join(dir, 'local/stale'))).rejects.toThrow();
    expect((await cli('check', 's3://sync-test/down', 'local')).code).toBe(0);

    const inc = await cli('cp', '--json', '--include', '*.csv', '-T', 's3://sync-test/down', 'csv');
    expect(JSON.parse(inc.stdout)).toMatchObject({ files: 2, failures: [] });
    await expect(stat(join(dir, 'csv/y.txt'))).rejects.toThrow();
    expect(await readFile(join(dir, 'csv/a/z.csv'), 'utf8')).toBe('zzz');
  });

  it('sync between prefixes copies server-side and deletes extra objects', async () => {
    await cli('cp', '-T', 'src', 's3://sync-test/from');
    await store.put('sync-test', 'to/old.txt', Buffer.from('old'));
    const r = await cli('sync', '--json', 's3://sync-test/from', 's3://sync-test/to');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 4, deleted: 1, failures: [] });
    expect(await keys('to/')).toEqual(['to/a/z.csv', 'to/tmp/t', 'to/x.csv', 'to/y.txt']);
    expect((await cli('check', '--checksum', 's3://sync-test/from', 's3://sync-test/to')).code).toBe(0);
    const again = await cli('sync', '--json', 's3://sync-test/from', 's3://sync-test/to');
    expect(JSON.parse(again.stdout)).toMatchObject({ files: 0, skipped: 4, deleted: 0 });
  });

  it('refuses to sync a prefix into itself (same bucket, nested prefixes)', async () => {
    const r = await cli('sync', 's3://sync-test/p', 's3://sync-test/p/sub');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'sluice: sync: cannot sync s3://sync-test/p to s3://sync-test/p/sub: the destination is inside the source\n',
    );
  });
});
