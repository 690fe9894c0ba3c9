// Uploaded code: the CLI's .tar.gz of a directory extracts to the same tree (long names through pax
// headers, symlinks, modes), the same tree packs to the same bytes, and the store refuses what a
// small archive would expand into (size and entries bounds) before anything is stored.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { packDirectory } from '../../../cli/code-archive-pack.ts';
import type { BlobStore } from '../../../shared/ports/blob-store.ts';
import { extractCodeArchive } from '../../../shared/runner/code-archive.ts';
import { BlobCodeStore } from '../../../shared/runner/code-store.ts';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sluice-code-store-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

class MemoryBlobs implements BlobStore {
  readonly items = new Map<string, Buffer>();
  async put(key: string, data: Buffer) {
    this.items.set(key, data);
  }
  async get(key: string) {
    const b = this.items.get(key);
    if (!b) throw new Error(`no blob ${key}`);
    return b;
  }
  async delete(key: string) {
    this.items.delete(key);
  }
}

describe('packDirectory', () => {
  it('round-trips a tree with a long path, a symlink and an executable, and is deterministic', async () => {
    const src = temp();
    const long = `${'deep/'.repeat(25)}file-with-a-long-name.py`;
    mkdirSync(join(src, long, '..'), { recursive: true });
    writeFileSync(join(src, long), 'print("deep")\n');
    writeFileSync(join(src, 'main.py'), 'def start(args):\n    return 1\n');
    writeFileSync(join(src, 'run.sh'), '#!/bin/sh\n');
    chmodSync(join(src, 'run.sh'), 0o755);
    symlinkSync('main.py', join(src, 'entry.py'));
    const packed = await packDirectory(src);
    expect(await packDirectory(src)).toEqual(packed);
    const dir = temp();
    const archive = join(dir, 'code.tar.gz');
    writeFileSync(archive, packed);
    const out = join(dir, 'out');
    mkdirSync(out);
    await extractCodeArchive(archive, out);
    expect(readFileSync(join(out, long), 'utf8')).toBe('print("deep")\n');
    expect(readFileSync(join(out, 'main.py'), 'utf8')).toContain('def start');
    expect(readlinkSync(join(out, 'entry.py'))).toBe('main.py');
    expect(statSync(join(out, 'run.sh')).mode & 0o111).not.toBe(0);
  });
});

/** A ustar header (enough for the bounds below). */
function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

describe('BlobCodeStore', () => {
  it('stores a good archive under its SHA-256 and fetches it back', async () => {
    const blobs = new MemoryBlobs();
    const store = new BlobCodeStore(blobs);
    const data = gzipSync(
      Buffer.concat([header('a.txt', 2), Buffer.from('hi'), Buffer.alloc(510), Buffer.alloc(1024)]),
    );
    const info = await store.store({ filename: 'a.tgz', data });
    expect(info).toMatchObject({ fileExt: 'tar.gz', fileSize: data.length });
    expect([...blobs.items.keys()]).toEqual([`code/${info.checksum}.tar.gz`]);
    expect(await store.fetch(info)).toEqual(data);
  });

  it('refuses an archive that expands past the bound (a 600 MiB file in a few hundred KiB)', async () => {
    const blobs = new MemoryBlobs();
    const size = 600 * 1024 * 1024;
    // The header promises 600 MiB; the extractor stops before writing past the bound.
    const data = gzipSync(Buffer.concat([header('big.bin', size), Buffer.alloc(1024 * 1024)]));
    await expect(new BlobCodeStore(blobs).store({ filename: 'bomb.tgz', data })).rejects.toThrow(
      /bomb\.tgz.*expands to more than 512 MiB/,
    );
    expect(blobs.items.size).toBe(0);
  });

  it('refuses more entries than the bound (checked by the extractor), and what is not an archive', async () => {
    const dir = temp();
    const archive = join(dir, 'many.tgz');
    writeFileSync(
      archive,
      gzipSync(
        Buffer.concat([...Array.from({ length: 11 }, () => header('d/', 0, '5')), Buffer.alloc(1024)]),
      ),
    );
    mkdirSync(join(dir, 'out'));
    await expect(extractCodeArchive(archive, join(dir, 'out'), { maxEntries: 10 })).rejects.toThrow(
      /more than 10 entries/,
    );
    const blobs = new MemoryBlobs();
    await expect(
      new BlobCodeStore(blobs).store({ filename: 'x.zip', data: Buffer.from('PK..') }),
    ).rejects.toThrow(/\.tar\.gz, \.tgz or \.tar/);
    expect(blobs.items.size).toBe(0);
  });
});
