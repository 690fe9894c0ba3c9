// cp --dry-run/--include/--exclude/--checksum/--log-file/--bwlimit, sync and check on local trees,
// through the CLI (what a user sees: stdout, stderr, exit status, the trees afterwards).
import { chmod, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/tree.ts';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('sync');
  for (const [f, text] of Object.entries({
    'src/x.csv': 'x',
    'src/y.txt': 'y',
    'src/a/z.csv': 'z',
    'src/a/tmp/t.csv': 't',
    'src/b/w.jpg': 'w',
  })) {
    await mkdir(join(dir, f, '..'), { recursive: true });
    await writeFile(join(dir, f), text);
  }
});
afterEach(async () => {
  await chmod(join(dir, 'dst'), 0o755).catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

const exists = (p: string) =>
  stat(join(dir, p)).then(
    () => true,
    () => false,
  );
const cli = (...args: string[]) => runCli(args, { cwd: dir });

describe('cp --dry-run, --include/--exclude, --checksum, --log-file', () => {
  it('--dry-run lists what would be copied and copies nothing', async () => {
    const r = await cli('cp', '--dry-run', '-T', 'src', 'dst');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(5);
    expect(r.stdout).toContain(`copy ${join(dir, 'src/a/z.csv')} -> ${join(dir, 'dst/a/z.csv')} (1 B)`);
    expect(r.stderr).toMatch(/dry run: 5 files \(5 B\) to copy; nothing was changed/);
    expect(await exists('dst')).toBe(false);
    // With -u only what is missing or changed; --json carries the actions.
    await cli('cp', '-T', 'src', 'dst');
    await writeFile(join(dir, 'src/y.txt'), 'yy');
    const u = await cli('cp', '--dry-run', '-u', '-T', '--json', 'src', 'dst');
    expect(JSON.parse(u.stdout)).toMatchObject({
      dryRun: true,
      files: 1,
      actions: [{ action: 'copy', from: join(dir, 'src/y.txt'), to: join(dir, 'dst/y.txt'), bytes: 2 }],
    });
    expect(await readFile(join(dir, 'dst/y.txt'), 'utf8')).toBe('y');
  });

  it('--include/--exclude select files relative to SRC; an excluded directory is not walked', async () => {
    const r = await cli('cp', '--json', '--include', '*.csv', '--exclude', 'tmp/', '-T', 'src', 'dst');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 2, failures: [] });
    expect(await exists('dst/x.csv')).toBe(true);
    expect(await exists('dst/a/z.csv')).toBe(true);
    expect(await exists('dst/y.txt')).toBe(false);
    expect(await exists('dst/b/w.jpg')).toBe(false);
    expect(await exists('dst/a/tmp')).toBe(false);
    // Anchored to SRC's root; several --exclude.
    const e = await cli('cp', '--json', '--exclude', '/x.csv', '--exclude', '*.jpg', '-T', 'src', 'dst2');
    expect(JSON.parse(e.stdout)).toMatchObject({ files: 3 });
    expect(await exists('dst2/x.csv')).toBe(false);
    expect(await exists('dst2/a/tmp/t.csv')).toBe(true);
  });

  it('--checksum decides by content: an equal file with another mtime is skipped, a changed one of the same size and mtime is copied', async () => {
    await cli('cp', '-T', 'src', 'dst');
    const old = new Date('2001-01-01T00:00:00Z');
    await utimes(join(dir, 'dst/x.csv'), old, old); // same content, other mtime
    const st = await stat(join(dir, 'src/y.txt'));
    await writeFile(join(dir, 'dst/y.txt'), 'Y'); // other content, same size and mtime
    await utimes(join(dir, 'dst/y.txt'), st.atime, st.mtime);
    const u = await cli('cp', '-u', '--dry-run', '--json', '-T', 'src', 'dst');
    expect(JSON.parse(u.stdout).actions.map((a: { to: string }) => a.to)).toEqual([join(dir, 'dst/x.csv')]);
    const r = await cli('cp', '--checksum', '--json', '-T', 'src', 'dst');
    expect(JSON.parse(r.stdout)).toMatchObject({ files: 1, skipped: 4, failures: [] });
    expect(await readFile(join(dir, 'dst/y.txt'), 'utf8')).toBe('y');
    expect((await stat(join(dir, 'dst/x.csv'))).mtimeMs).toBe(old.getTime());
  });

  it('--log-file appends one line per action, failures included', async () => {
    await mkdir(join(dir, 'dst'));
    await mkdir(join(dir, 'dst/y.txt')); // a directory where a file goes: that copy fails
    const r = await cli('cp', '--log-file', 'cp.log', '-T', 'src', 'dst');
    expect(r.code).toBe(1);
    const lines = (await readFile(join(dir, 'cp.log'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(5);
    expect(lines.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z (copy|fail) /.test(l))).toBe(true);
    expect(lines).toContain(
      lines.find((l) => l.endsWith(`copy ${join(dir, 'src/x.csv')} -> ${join(dir, 'dst/x.csv')} (1 bytes)`)),
    );
    expect(lines.filter((l) => l.includes(' fail '))).toHaveLength(1);
    const bad = await cli('cp', '--log-file', 'no/such/dir/cp.log', 'src', 'dst3');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(`sluice: cannot write the log file ${join(dir, 'no/such/dir/cp.log')}: ENOENT\n`);
  });

  it('--bwlimit (and --limit-rate, the same flag) holds the rate; a bad size is a usage error', async () => {
    await writeFile(join(dir, 'src/big.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
    const t0 = performance.now();
    const r = await cli('cp', '--bwlimit', '1M', '--include', 'big.bin', '-T', 'src', 'slow');
    expect(r.code, r.stderr).toBe(0);
    // 3 MiB at 1 MiB/s: the first MiB may go at once, the rest takes at least two seconds.
    expect(performance.now() - t0).toBeGreaterThan(1900);
    expect((await stat(join(dir, 'slow/big.bin'))).size).toBe(3 * 1024 * 1024);
    const bad = await cli('cp', '--limit-rate', 'fast', 'src', 'x');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit-rate must be a size like 64M/);
  });
});

describe('sluice sync', () => {
  beforeEach(async () => {
    await mkdir(join(dir, 'dst/old/sub'), { recursive: true });
    await writeFile(join(dir, 'dst/extra.txt'), 'e');
    await writeFile(join(dir, 'dst/old/sub/q'), 'q');
    await writeFile(join(dir, 'dst/keep.log'), 'excluded: stays');
  });

  it('--dry-run shows the copies and the deletions and changes nothing', async () => {
    const r = await cli('sync', '--dry-run', '--exclude', '*.log', 'src', 'dst');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('copy '))).toHaveLength(5);
    expect(lines.filter((l) => l.startsWith('delete '))).toEqual([
      `delete ${join(dir, 'dst/extra.txt')}`,
      `delete ${join(dir, 'dst/old/sub/q')}`,
      `delete ${join(dir, 'dst/old/sub')}`,
      `delete ${join(dir, 'dst/old')}`,
    ]);
    expect(await exists('dst/extra.txt')).toBe(true);
    expect(await exists('dst/x.csv')).toBe(false);
  });

  it('makes DST equal to SRC, keeps excluded files, and a second run does nothing', async () => {
    const r = await cli('sync', '--json', '--exclude', '*.log', '--log-file', 's.log', 'src', 'dst');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ operation: 'sync', files: 5, deleted: 4, failures: [] });
    expect(await exists('dst/extra.txt')).toBe(false);
    expect(await exists('dst/old')).toBe(false);
    expect(await readFile(join(dir, 'dst/keep.log'), 'utf8')).toBe('excluded: stays');
    const log = await readFile(join(dir, 's.log'), 'utf8');
    expect(log.match(/ delete /g)).toHaveLength(4);
    const check = await cli('check', '--exclude', '*.log', 'src', 'dst');
    expect(check.code, check.stdout).toBe(0);
    const again = await cli('sync', '--json', '--exclude', '*.log', 'src', 'dst');
    expect(JSON.parse(again.stdout)).toMatchObject({ files: 0, skipped: 5, deleted: 0 });
  });

  it('deletes nothing when a copy failed', async () => {
    await mkdir(join(dir, 'dst/y.txt')); // a directory where a file goes
    const r = await cli('sync', 'src', 'dst');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/note: not deleting 5 item\(s\) from .*: 1 item\(s\) failed/);
    expect(await exists('dst/extra.txt')).toBe(true);
  });

  it('refuses nested trees and a missing source', async () => {
    const inside = await cli('sync', 'src', 'src/a');
    expect(inside.code).toBe(1);
    expect(inside.stderr).toBe(
      `sluice: sync: cannot sync ${join(dir, 'src')} to ${join(dir, 'src/a')}: the destination is inside the source\n`,
    );
    const around = await cli('sync', 'src/a', 'src');
    expect(around.stderr).toMatch(/the source is inside the destination/);
    const missing = await cli('sync', 'nope', 'dst');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      `sluice: sync: ${join(dir, 'nope')}: no such file or directory (nothing synced)\n`,
    );
    expect(await exists('dst/extra.txt')).toBe(true);
  });
});

describe('sluice check', () => {
  it('prints what is missing on either side and what differs, exit 1; --json; exit 0 when equal', async () => {
    await cli('cp', '-T', 'src', 'dst');
    await writeFile(join(dir, 'dst/extra'), '1');
    await rm(join(dir, 'dst/x.csv'));
    await writeFile(join(dir, 'dst/y.txt'), 'longer');
    const r = await cli('check', 'src', 'dst');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('+ x.csv\n- extra\n* y.txt\n');
    expect(r.stderr).toMatch(
      /3 differences \(1 missing on .*dst, 1 missing on .*src, 1 different\); 3 match/,
    );
    const j = await cli('check', '--json', 'src', 'dst');
    expect(JSON.parse(j.stdout)).toMatchObject({
      match: false,
      same: 3,
      missingOnDestination: ['x.csv'],
      missingOnSource: ['extra'],
      differ: ['y.txt'],
      errors: [],
    });
    await cli('sync', 'src', 'dst');
    expect((await cli('check', 'src', 'dst')).code).toBe(0);
  });

  it('--checksum finds content that changed under the same size and mtime', async () => {
    await cli('cp', '-T', 'src', 'dst');
    const st = await stat(join(dir, 'src/x.csv'));
    await writeFile(join(dir, 'dst/x.csv'), 'X');
    await utimes(join(dir, 'dst/x.csv'), st.atime, st.mtime);
    expect((await cli('check', 'src', 'dst')).code).toBe(0);
    const r = await cli('check', '--checksum', 'src', 'dst');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('* x.csv\n');
  });

  it('a missing source is an error; an unreadable directory is reported (!) and is a difference', async () => {
    const r = await cli('check', 'nope', 'src');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`sluice: check: ${join(dir, 'nope')}: no such file or directory\n`);
    if (process.getuid?.() === 0) return; // root reads everything
    await cli('cp', '-T', 'src', 'dst');
    await chmod(join(dir, 'dst/a'), 0);
    const u = await cli('check', 'src', 'dst');
    await chmod(join(dir, 'dst/a'), 0o755);
    expect(u.code).toBe(1);
    expect(u.stdout).toMatch(/^! .*dst\/a: /m);
  });
});
