// BlobStore on the local disk: one file per key under $SLUICE_HOME/blobs, written atomically and
// durably: the data and the directory entry are synced before put() resolves, so a row that
// references a blob (written after) never outlives the blob in a power cut.
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotFoundError } from '../../errors.ts';
import type { BlobStore } from '../../ports/blob-store.ts';

/** fsync of a directory: makes the entries created or renamed in it durable. */
async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

export class FileBlobStore implements BlobStore {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.includes('..')) {
      throw new Error(`invalid blob key "${key}"`);
    }
    return join(this.dir, key);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const p = this.path(key);
    const created = await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const h = await open(tmp, 'w');
    try {
      await h.writeFile(data);
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(tmp, p);
    await syncDir(dirname(p));
    // Directories made for this blob: each one's entry in its parent must be durable too.
    if (created) {
      const top = dirname(created);
      for (let d = dirname(p); d !== top && d !== dirname(d); d = dirname(d)) await syncDir(dirname(d));
    }
  }

  async get(key: string): Promise<Buffer> {
    try {
      return await readFile(this.path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`blob ${key} not found`);
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }
}
