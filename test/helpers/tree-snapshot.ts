// Describes a directory tree (type, mode, mtime, content hash, link target, hard-link groups) so a
// test can compare Sluice's extraction with GNU tar's, entry by entry.
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export interface EntrySnapshot {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: string;
  mtime: number;
  sha?: string;
  target?: string;
  /** Paths sharing this inode (hard links), relative, sorted; only when more than one. */
  links?: string[];
}

export async function snapshotTree(root: string): Promise<Record<string, EntrySnapshot>> {
  const out: Record<string, EntrySnapshot> = {};
  const inodes = new Map<number, string[]>();
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = await lstat(abs);
      const e: EntrySnapshot = {
        type: st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other',
        mode: (st.mode & 0o7777).toString(8),
        mtime: Math.floor(st.mtimeMs),
      };
      if (e.type === 'file') {
        e.sha = createHash('sha256')
          .update(await readFile(abs))
          .digest('hex');
        if (st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), r]);
      }
      if (e.type === 'symlink') {
        e.target = await readlink(abs);
        e.mode = 'n/a'; // symlink modes mean nothing on Linux
      }
      out[r] = e;
      if (e.type === 'dir') await walk(r);
    }
  };
  await walk('');
  for (const group of inodes.values()) {
    if (group.length < 2) continue;
    for (const p of group) out[p]!.links = [...group].sort();
  }
  return out;
}
