// Builds small file trees for IO tests and reads them back (content, modes, mtimes, link targets),
// so a test can assert that a copy is identical to its source.
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  symlink,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(tag = 'io'): Promise<string> {
  return mkdtemp(join(tmpdir(), `sluice-${tag}-`));
}

/** A tree with nested files of varied sizes, an empty dir, a symlink, custom modes and mtimes. */
export async function makeSampleTree(root: string): Promise<void> {
  await mkdir(join(root, 'a/b/c'), { recursive: true });
  await mkdir(join(root, 'empty'));
  for (let i = 0; i < 30; i++) await writeFile(join(root, `a/f${i}.txt`), `file ${i}\n`.repeat(i * 50));
  await writeFile(join(root, 'a/b/c/deep.bin'), Buffer.alloc(70_000, 7));
  await writeFile(join(root, 'exec.sh'), '#!/bin/sh\necho hi\n');
  await chmod(join(root, 'exec.sh'), 0o750);
  await symlink('a/f1.txt', join(root, 'link-to-f1'));
  await symlink('/nonexistent/target', join(root, 'dangling'));
  const old = new Date('2001-02-03T04:05:06Z');
  await utimes(join(root, 'a/f3.txt'), old, old);
  await utimes(join(root, 'a/b'), old, old);
}

export interface Snapshot {
  [rel: string]: { kind: string; mode: number; mtimeMs?: number; data?: string; target?: string };
}

/** Everything a copy must preserve, keyed by relative path (dir mtimes included). */
export async function snapshot(root: string, rel = ''): Promise<Snapshot> {
  const out: Snapshot = {};
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${d.name}` : d.name;
    const p = join(root, r);
    const st = await lstat(p);
    if (d.isDirectory()) {
      out[r] = { kind: 'dir', mode: st.mode, mtimeMs: Math.round(st.mtimeMs) };
      Object.assign(out, await snapshot(root, r));
    } else if (d.isSymbolicLink()) out[r] = { kind: 'symlink', mode: st.mode, target: await readlink(p) };
    else
      out[r] = {
        kind: 'file',
        mode: st.mode,
        mtimeMs: Math.round(st.mtimeMs),
        data: (await readFile(p)).toString('base64'),
      };
  }
  return out;
}
