// The small-file writer thread driven through its message protocol, started as SmallFileWriter
// starts it: a batch of bodies in a shared arena becomes files with their modes and mtimes; a path
// that exists, or is a symlink, is reported by index and never written through.
import fs from 'node:fs';
import { lstat, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  SmallFileBatch,
  SmallFileBatchDone,
  SmallFileWrite,
} from '../../../../../shared/io/fetch/tar/small-file-thread.ts';
import { moduleBeside, startWorkerThread } from '../../../../../shared/io/worker-thread.ts';

let worker: Worker;
let dir: string;
const FLAGS = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

const write = (m: SmallFileBatch) =>
  new Promise<SmallFileBatchDone>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.postMessage(m);
  });

/** Bodies packed into one shared arena, as SmallFileWriter packs them. */
function batch(id: number, files: { name: string; body: string; mode?: number; chmod?: boolean }[]) {
  const arena = new SharedArrayBuffer(64 * 1024);
  const view = Buffer.from(arena);
  let off = 0;
  const writes: SmallFileWrite[] = files.map((f) => {
    const len = view.write(f.body, off);
    const w = {
      path: path.join(dir, f.name),
      mode: f.mode ?? 0o644,
      chmod: f.chmod ?? false,
      mtime: 1e9,
      off,
      len,
    };
    off += len + 3; // gaps between bodies, as alignment leaves them
    return w;
  });
  return { id, arena, flags: FLAGS, atime: 1.5e9, files: writes };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-small-file-thread-'));
  worker = startWorkerThread(
    moduleBeside('../../../../../shared/io/fetch/tar/small-file-thread', import.meta.url),
  );
});
afterAll(async () => {
  await worker.terminate();
  await rm(dir, { recursive: true, force: true });
});

describe('small-file-thread', () => {
  it('writes every file of a batch from the arena, with its mode (chmod past the umask) and mtime', async () => {
    const done = await write(
      batch(7, [
        { name: 'a.txt', body: 'alpha' },
        { name: 'b.sh', body: '#!/bin/sh\n', mode: 0o777, chmod: true },
        { name: 'empty', body: '' },
      ]),
    );
    expect(done).toMatchObject({ id: 7, failures: [] });
    expect(done.ms).toBeGreaterThanOrEqual(0);
    const st = await stat(path.join(dir, 'a.txt')); // before a read moves the atime
    expect(st.mtimeMs).toBe(1e12);
    expect(st.atimeMs).toBe(1.5e12);
    expect(await readFile(path.join(dir, 'a.txt'), 'utf8')).toBe('alpha');
    expect(await readFile(path.join(dir, 'b.sh'), 'utf8')).toBe('#!/bin/sh\n');
    expect((await stat(path.join(dir, 'b.sh'))).mode & 0o7777).toBe(0o777);
    expect((await stat(path.join(dir, 'empty'))).size).toBe(0);
  });

  it('reports an existing file or symlink (EEXIST: O_EXCL) by index; writes the rest, never through the link', async () => {
    await writeFile(path.join(dir, 'exists'), 'old');
    await writeFile(path.join(dir, 'target'), 'untouched');
    await symlink('target', path.join(dir, 'link'));
    const done = await write(
      batch(8, [
        { name: 'exists', body: 'new' },
        { name: 'fresh', body: 'fresh' },
        { name: 'link', body: 'through' },
      ]),
    );
    expect(done.id).toBe(8);
    expect(done.failures.map((f) => [f.i, f.code])).toEqual([
      [0, 'EEXIST'],
      [2, 'EEXIST'],
    ]);
    expect(done.failures[0]!.message).toMatch(/EEXIST/);
    expect(await readFile(path.join(dir, 'exists'), 'utf8')).toBe('old');
    expect(await readFile(path.join(dir, 'fresh'), 'utf8')).toBe('fresh');
    expect((await lstat(path.join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await readlink(path.join(dir, 'link'))).toBe('target');
    expect(await readFile(path.join(dir, 'target'), 'utf8')).toBe('untouched');
  });
});
