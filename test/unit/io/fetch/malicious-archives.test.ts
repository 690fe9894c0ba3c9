// A corpus of hostile archives (crafted with Python's tarfile, which writes any name it is given):
// each is refused with a clear message, or its dangerous entries skipped, and nothing is ever
// written outside the destination.
import { execFileSync } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { fetchArchive } from '../../../../shared/io/fetch/fetch.ts';

let work: string;
let root: string;
let dest: string;
let outside: string;

/** Entries: [type, name, extra] with type file|dir|symlink|hardlink|chr|fifo; extra = content or link target. */
type Spec = [type: string, name: string, extra?: string, mode?: number];

async function craft(entries: Spec[]): Promise<string> {
  const file = path.join(work, `a${Math.random().toString(36).slice(2)}.tar`);
  const py = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], 'w', format=tarfile.GNU_FORMAT) as t:
    for typ, name, extra, mode in entries:
        ti = tarfile.TarInfo(name)
        ti.mtime = 1700000000
        ti.mode = mode if mode is not None else 0o644
        data = None
        if typ == 'file':
            data = (extra or '').encode(); ti.size = len(data)
        elif typ == 'dir': ti.type = tarfile.DIRTYPE; ti.mode = mode or 0o755
        elif typ == 'symlink': ti.type = tarfile.SYMTYPE; ti.linkname = extra
        elif typ == 'hardlink': ti.type = tarfile.LNKTYPE; ti.linkname = extra
        elif typ == 'chr': ti.type = tarfile.CHRTYPE; ti.devmajor = 1; ti.devminor = 3
        elif typ == 'fifo': ti.type = tarfile.FIFOTYPE
        t.addfile(ti, io.BytesIO(data) if data is not None else None)
`;
  execFileSync('python3', [
    '-c',
    py,
    file,
    JSON.stringify(entries.map(([t, n, e, m]) => [t, n, e ?? null, m ?? null])),
  ]);
  return file;
}

const extract = (url: string, extra: object = {}) =>
  fetchArchive({ url, output: { kind: 'extract', dest }, ...extra });

async function outsideUntouched(): Promise<void> {
  expect((await readdir(root)).sort()).toEqual(['dest', 'outside']);
  expect((await readdir(outside)).sort()).toEqual(['passwd']);
  expect(await readFile(path.join(outside, 'passwd'), 'utf8')).toBe('root:x:0:0\n');
}

beforeEach(async () => {
  work ??= await mkdtemp(path.join(os.tmpdir(), 'sluice-fetch-evil-'));
  root = await mkdtemp(path.join(work, 'case-'));
  dest = path.join(root, 'dest');
  outside = path.join(root, 'outside');
  await mkdir(dest);
  await mkdir(outside);
  await writeFile(path.join(outside, 'passwd'), 'root:x:0:0\n');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('malicious archives', () => {
  it('rejects absolute names', async () => {
    const a = await craft([['file', `${outside}/passwd`, 'pwned']]);
    await expect(extract(a)).rejects.toThrow(
      /refusing to extract ".*passwd": absolute names are not allowed/,
    );
    await outsideUntouched();
  });

  it('rejects ".." in names', async () => {
    const a = await craft([['file', '../outside/passwd', 'pwned']]);
    await expect(extract(a)).rejects.toThrow(
      /refusing to extract "\.\.\/outside\/passwd": names containing "\.\."/,
    );
    await outsideUntouched();
  });

  it('rejects an absolute symlink target', async () => {
    const a = await craft([
      ['symlink', 'evil', outside],
      ['file', 'evil/passwd', 'pwned'],
    ]);
    await expect(extract(a)).rejects.toThrow(/"evil": symlink target ".*" is absolute/);
    await outsideUntouched();
  });

  it('rejects a relative symlink that leads outside', async () => {
    const a = await craft([['symlink', 'sub/evil', '../../outside']]);
    await expect(extract(a)).rejects.toThrow(
      /"sub\/evil": symlink target "\.\.\/\.\.\/outside" points outside/,
    );
    await outsideUntouched();
  });

  it('never writes through a symlink the archive created, even one pointing inside', async () => {
    const a = await craft([
      ['dir', 'real'],
      ['symlink', 'link', 'real'],
      ['file', 'link/x', 'through the link'],
    ]);
    await expect(extract(a)).rejects.toThrow(
      /"link\/x": "link" is a symlink in this archive; refusing to write through it/,
    );
    await expect(lstat(path.join(dest, 'real', 'x'))).rejects.toThrow(/ENOENT/);
    await outsideUntouched();
  });

  it('rejects a symlink that climbs out through another symlink (a -> ., b -> a/../..)', async () => {
    const a = await craft([
      ['symlink', 'a', '.'],
      ['symlink', 'b', 'a/../outside'],
    ]);
    await expect(extract(a)).rejects.toThrow(
      /"b": symlink target "a\/\.\.\/outside" climbs out of another symlink/,
    );
    await outsideUntouched();
  });

  it('rejects hard links to absolute or escaping targets', async () => {
    const abs = await craft([['hardlink', 'pw', `${outside}/passwd`]]);
    await expect(extract(abs)).rejects.toThrow(/absolute names are not allowed/);
    const rel = await craft([['hardlink', 'pw', '../outside/passwd']]);
    await expect(extract(rel)).rejects.toThrow(/names containing "\.\."/);
    await outsideUntouched();
  });

  it('rejects a hard link whose target goes through an archive symlink', async () => {
    const a = await craft([
      ['symlink', 'up', '.'],
      ['hardlink', 'pw', 'up/x'],
    ]);
    await expect(extract(a)).rejects.toThrow(/"up" is a symlink in this archive/);
    await outsideUntouched();
  });

  it('skips device files and FIFOs with a warning', async () => {
    const a = await craft([
      ['chr', 'null'],
      ['fifo', 'pipe'],
      ['file', 'ok', 'fine'],
    ]);
    const s = await extract(a);
    expect(s.skipped).toBe(2);
    expect(s.warnings.join('\n')).toMatch(/skipping null: device files are not extracted/);
    expect(s.warnings.join('\n')).toMatch(/skipping pipe: FIFOs are not extracted/);
    expect((await readdir(dest)).sort()).toEqual(['ok']);
  });

  it('strips setuid and setgid bits by default', async () => {
    const a = await craft([['file', 'su', 'x', 0o6755]]);
    await extract(a);
    expect((await lstat(path.join(dest, 'su'))).mode & 0o7777).toBe(0o755);
  });

  it('does not follow a pre-existing symlink in the destination that leads outside', async () => {
    await symlink(outside, path.join(dest, 'pre'));
    const a = await craft([['file', 'pre/passwd', 'pwned']]);
    await expect(extract(a)).rejects.toThrow(
      /"pre" is an existing symlink that leads outside the destination/,
    );
    await outsideUntouched();
  });

  // A directory entry is created in place (mkdir on the main thread) on a fast destination; what
  // already exists there still goes through every check.
  it('a directory entry does not follow a pre-existing symlink that leads outside', async () => {
    await symlink(outside, path.join(dest, 'pre'));
    const a = await craft([
      ['dir', 'pre'],
      ['file', 'pre/passwd', 'pwned'],
      ['file', 'pre/more', 'pwned too'],
    ]);
    await expect(extract(a)).rejects.toThrow(
      /"pre" is an existing symlink that leads outside the destination/,
    );
    await outsideUntouched();
  });

  it('a directory entry over an existing file is refused without --overwrite', async () => {
    await writeFile(path.join(dest, 'd'), 'mine');
    const a = await craft([
      ['dir', 'd'],
      ['file', 'd/x', 'theirs'],
    ]);
    await expect(extract(a)).rejects.toThrow(/d already exists \(use --overwrite/);
    expect(await readFile(path.join(dest, 'd'), 'utf8')).toBe('mine');
  });

  it('extracts into a directory that already exists, and applies the archive mode to it', async () => {
    await mkdir(path.join(dest, 'd'), { mode: 0o700 });
    await writeFile(path.join(dest, 'd', 'old'), 'kept');
    const a = await craft([
      ['dir', 'd', undefined, 0o750],
      ['file', 'd/x', 'new'],
      ['dir', 'd/e'],
      ['file', 'd/e/y', 'deeper'],
    ]);
    await extract(a);
    expect(await readFile(path.join(dest, 'd', 'old'), 'utf8')).toBe('kept');
    expect(await readFile(path.join(dest, 'd', 'x'), 'utf8')).toBe('new');
    expect(await readFile(path.join(dest, 'd', 'e', 'y'), 'utf8')).toBe('deeper');
    const st = await lstat(path.join(dest, 'd'));
    expect(st.mode & 0o777).toBe(0o750);
    expect(st.mtimeMs).toBe(1700000000 * 1000);
  });

  it('a symlink entry over an existing file: refused without --overwrite, replaced with it', async () => {
    await writeFile(path.join(dest, 'l'), 'mine');
    const a = await craft([
      ['file', 'target', 'theirs'],
      ['symlink', 'l', 'target'],
      ['symlink', 'fresh', 'target'],
    ]);
    await expect(extract(a)).rejects.toThrow(/l already exists \(use --overwrite/);
    expect(await readFile(path.join(dest, 'l'), 'utf8')).toBe('mine');
    await extract(a, { overwrite: true });
    expect((await lstat(path.join(dest, 'l'))).isSymbolicLink()).toBe(true);
    expect(await readFile(path.join(dest, 'l'), 'utf8')).toBe('theirs');
    expect((await lstat(path.join(dest, 'fresh'))).mtimeMs).toBe(1700000000 * 1000);
  });

  it('refuses to replace an existing file without --overwrite', async () => {
    await writeFile(path.join(dest, 'keep'), 'mine');
    const a = await craft([['file', 'keep', 'theirs']]);
    await expect(extract(a)).rejects.toThrow(
      /keep already exists \(use --overwrite to replace existing files\)/,
    );
    expect(await readFile(path.join(dest, 'keep'), 'utf8')).toBe('mine');
  });

  it('--overwrite replaces a file by unlinking it, never writing through an existing link', async () => {
    // A hard link to a file outside: writing into it would change the outside file.
    const { link } = await import('node:fs/promises');
    await link(path.join(outside, 'passwd'), path.join(dest, 'pw'));
    await symlink(path.join(outside, 'passwd'), path.join(dest, 'sl'));
    const a = await craft([
      ['file', 'pw', 'new'],
      ['file', 'sl', 'new too'],
    ]);
    await extract(a, { overwrite: true });
    expect(await readFile(path.join(dest, 'pw'), 'utf8')).toBe('new');
    expect((await lstat(path.join(dest, 'sl'))).isFile()).toBe(true);
    expect(await readFile(path.join(outside, 'passwd'), 'utf8')).toBe('root:x:0:0\n');
  });

  it('lets a later entry replace an earlier one of the same archive (tar semantics)', async () => {
    const a = await craft([
      ['file', 'twice', 'first'],
      ['file', 'twice', 'second'],
    ]);
    await extract(a);
    expect(await readFile(path.join(dest, 'twice'), 'utf8')).toBe('second');
  });
});
