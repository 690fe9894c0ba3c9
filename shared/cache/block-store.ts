// The blocks on disk: `DIR/blocks/<h[0:2]>/<h>/` per object (h = hash of its origin and name)
// holds `meta.json` (the version its blocks belong to) and the blocks `<version hash>.<n>`.
// Blocks are written to `*.tmp` names and renamed when complete; the directory stays within
// maxSize by evicting the least recently used blocks before a new one is renamed into place.
// Opening a block checks its checksum the first time in this process.
import { createHash, randomBytes } from 'node:crypto';
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from 'node:fs/promises';
import { join } from 'node:path';
import { verifyBlockFile } from './block-file.ts';
import { type BlockEntry, BlockIndex } from './block-index.ts';
import { BLOCK_HEADER_BYTES, DIR_BLOCKS, META_FILE } from './constants.ts';
import { BlockStoreError, isDiskFull } from './errors.ts';
import { type PersistedMeta, parsePersistedMeta } from './object-meta.ts';
import { blockLength } from './range.ts';
import type { CacheStats, Log, ObjectMeta } from './types.ts';

const BLOCK_NAME = /^([0-9a-f]{16})\.(\d+)$/;
/** A block's mtime is refreshed at most this often, so eviction after a restart follows use. */
const TOUCH_EVERY_MS = 60_000;

export interface BlockStoreOptions {
  dir: string;
  maxSize: number;
  blockSize: number;
  stats: CacheStats;
  log: Log;
}

export interface TempBlock {
  fh: FileHandle;
  path: string;
}

const ignore = () => {};

export class BlockStore {
  readonly index = new BlockIndex();
  readonly blocksDir: string;
  /** Bytes of blocks being renamed into place (already made room for). */
  private reserved = 0;
  private readonly touchedAt = new Map<string, number>();
  /** Object files being deleted: a new version's meta file waits for them. */
  private readonly removing = new Map<string, Promise<void>>();

  private constructor(private readonly o: BlockStoreOptions) {
    this.blocksDir = join(o.dir, DIR_BLOCKS);
  }

  /** Opens (creating) the directory and indexes the blocks a previous run left. */
  static async open(o: BlockStoreOptions): Promise<BlockStore> {
    const s = new BlockStore(o);
    await mkdir(s.blocksDir, { recursive: true });
    await s.scan();
    return s;
  }

  objectHash(id: string): string {
    return createHash('sha256').update(id).digest('hex').slice(0, 32);
  }

  /** Keys a version's blocks; the block size is part of it, so a new --block-size never mixes. */
  versionHash(version: string): string {
    return createHash('sha256').update(`${this.o.blockSize} ${version}`).digest('hex').slice(0, 16);
  }

  blockKey(object: string, versionHash: string, n: number): string {
    return `${object.slice(0, 2)}/${object}/${versionHash}.${n}`;
  }

  private objectDir(object: string): string {
    return join(this.blocksDir, object.slice(0, 2), object);
  }

  /** True when the block is complete on disk (as far as the index knows). */
  has(key: string): boolean {
    return this.index.get(key) !== undefined;
  }

  /**
   * A complete block, open for reading, or undefined (absent, or found damaged and dropped). Its
   * checksum is checked the first time this process opens it.
   */
  async openBlock(key: string, n: number, meta: ObjectMeta): Promise<FileHandle | undefined> {
    const e = this.index.get(key);
    if (!e) return undefined;
    let fh: FileHandle;
    try {
      fh = await open(join(this.blocksDir, key), 'r');
    } catch {
      this.forget(e);
      return undefined;
    }
    if (!e.verified) {
      const ok = await verifyBlockFile(fh, n, blockLength(n, this.o.blockSize, meta.size)).catch(() => false);
      if (!ok) {
        await fh.close().catch(ignore);
        this.o.stats.corruptBlocks++;
        this.o.log(`cache: block ${key} is damaged (checksum or length); dropped, fetching it again`);
        this.forget(e);
        return undefined;
      }
      e.verified = true;
    }
    this.index.touch(key);
    const now = Date.now();
    if (now - (this.touchedAt.get(key) ?? 0) > TOUCH_EVERY_MS) {
      this.touchedAt.set(key, now);
      fh.utimes(now / 1000, now / 1000).catch(ignore);
    }
    return fh;
  }

  /** A new temporary file for block `n` of an object. */
  async createTemp(object: string, versionHash: string, n: number): Promise<TempBlock> {
    const dir = this.objectDir(object);
    const path = join(dir, `${versionHash}.${n}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      return { fh: await inDir(dir, () => open(path, 'wx+')), path };
    } catch (err) {
      throw storeError(`cannot create ${path}`, err);
    }
  }

  /**
   * Renames a written temporary file into place as block `n` of `meta`'s version, after making
   * room. The object's blocks of any other version are dropped first, and its meta file written.
   * False when the block was not kept (larger than the whole cache, or its file vanished).
   */
  async commit(temp: string, object: string, n: number, id: string, meta: ObjectMeta): Promise<boolean> {
    const vh = this.versionHash(meta.version);
    const key = this.blockKey(object, vh, n);
    const bytes = BLOCK_HEADER_BYTES + blockLength(n, this.o.blockSize, meta.size);
    if (bytes > this.o.maxSize) {
      await unlink(temp).catch(ignore);
      return false;
    }
    if (this.index.versionOf(object) !== vh) {
      // A reader still finishing an older version must not displace the newer one.
      if ((this.index.seenAt(object) ?? -1) > meta.checkedAt) {
        await unlink(temp).catch(ignore);
        return false;
      }
      await this.deleteFiles(this.index.dropObject(object));
      await this.removing.get(object);
      const metaBytes = await this.writeMeta(object, { format: 1, id, meta });
      this.index.setObject(object, vh, metaBytes, meta.checkedAt);
    }
    // Room is made (and the files deleted) before the rename: the directory never exceeds maxSize.
    const deleting = this.makeRoom(bytes, object);
    this.reserved += bytes;
    try {
      await deleting;
      await rename(temp, join(this.blocksDir, key));
    } catch (err) {
      await unlink(temp).catch(ignore);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storeError(`cannot rename ${temp}`, err);
    } finally {
      this.reserved -= bytes;
    }
    // The object may have been dropped (a write, a clear) while the file was renamed.
    if (this.index.versionOf(object) !== vh) {
      await unlink(join(this.blocksDir, key)).catch(ignore);
      return false;
    }
    this.index.add({ key, object, bytes, verified: true });
    return true;
  }

  async discard(temp: string): Promise<void> {
    await unlink(temp).catch(ignore);
  }

  /** The meta file of an object (what a previous run cached), if any. */
  async readMeta(object: string): Promise<PersistedMeta | undefined> {
    if (this.index.versionOf(object) === undefined) return undefined;
    const text = await readFile(join(this.objectDir(object), META_FILE), 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parsePersistedMeta(text);
  }

  /** Drops an object's blocks and meta file (it changed or was deleted at the origin). */
  dropObject(object: string): Promise<void> {
    const had = this.index.versionOf(object) !== undefined;
    const blocks = this.deleteFiles(this.index.dropObject(object));
    return had ? Promise.all([blocks, this.removeObjectFiles(object)]).then(ignore) : blocks;
  }

  /** Drops every block (in-flight fetches still complete and are kept). */
  clear(): Promise<void> {
    return Promise.all(this.index.objectIds().map((o) => this.dropObject(o))).then(ignore);
  }

  private async writeMeta(object: string, p: PersistedMeta): Promise<number> {
    const dir = this.objectDir(object);
    const text = `${JSON.stringify(p)}\n`;
    const tmp = join(dir, `${META_FILE}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const fh = await inDir(dir, () => open(tmp, 'wx'));
      try {
        await fh.writeFile(text);
      } finally {
        await fh.close();
      }
      await rename(tmp, join(dir, META_FILE));
    } catch (err) {
      await unlink(tmp).catch(ignore);
      throw storeError(`cannot write ${join(dir, META_FILE)}`, err);
    }
    return Buffer.byteLength(text);
  }

  /**
   * Evicts least recently used blocks until `bytes` more fit (objects left empty go too); resolves
   * when their files are deleted.
   */
  private makeRoom(bytes: number, keep: string): Promise<void> {
    const limit = this.o.maxSize;
    const deleting: Promise<void>[] = [];
    while (this.index.bytes + this.reserved + bytes > limit) {
      const victims = this.index.evictFor(this.reserved + bytes, limit);
      this.o.stats.evictions += victims.length;
      deleting.push(this.deleteFiles(victims));
      let freed = victims.length > 0;
      for (const object of new Set(victims.map((v) => v.object)))
        if (object !== keep && this.index.isEmptyObject(object)) {
          deleting.push(this.dropObject(object));
          freed = true;
        }
      if (!freed) break;
    }
    return Promise.all(deleting).then(ignore);
  }

  private forget(e: BlockEntry): void {
    this.index.remove(e.key);
    this.touchedAt.delete(e.key);
    unlink(join(this.blocksDir, e.key)).catch(ignore);
  }

  private deleteFiles(entries: BlockEntry[]): Promise<void> {
    return Promise.all(
      entries.map((e) => {
        this.touchedAt.delete(e.key);
        return unlink(join(this.blocksDir, e.key)).catch(ignore);
      }),
    ).then(ignore);
  }

  /** The meta file, then the directory if nothing (no block being written) is left in it. */
  private removeObjectFiles(object: string): Promise<void> {
    const dir = this.objectDir(object);
    const p = (this.removing.get(object) ?? Promise.resolve())
      .then(() => unlink(join(dir, META_FILE)))
      .catch(ignore)
      .then(() => rmdir(dir))
      .catch(ignore)
      .finally(() => {
        if (this.removing.get(object) === p) this.removing.delete(object);
      });
    this.removing.set(object, p);
    return p;
  }

  /** Indexes what a previous run left: complete blocks of each object's recorded version. */
  private async scan(): Promise<void> {
    const found: { e: BlockEntry; mtime: number }[] = [];
    for (const prefix of await readdir(this.blocksDir).catch(() => [] as string[])) {
      const prefixDir = join(this.blocksDir, prefix);
      for (const object of await readdir(prefixDir).catch(() => [] as string[])) {
        found.push(...(await this.scanObject(object, join(prefixDir, object))));
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const { e } of found) this.index.add(e);
    for (const object of this.index.objectIds())
      if (this.index.isEmptyObject(object)) this.dropObject(object);
    this.makeRoom(0, '');
  }

  private async scanObject(object: string, dir: string): Promise<{ e: BlockEntry; mtime: number }[]> {
    const files = await readdir(dir).catch(() => [] as string[]);
    const text = await readFile(join(dir, META_FILE), 'utf8').catch(() => undefined);
    const p = text === undefined ? undefined : parsePersistedMeta(text);
    if (!p || this.objectHash(p.id) !== object) {
      await rm(dir, { recursive: true, force: true });
      return [];
    }
    const vh = this.versionHash(p.meta.version);
    this.index.setObject(object, vh, Buffer.byteLength(text ?? ''));
    const out: { e: BlockEntry; mtime: number }[] = [];
    await Promise.all(
      files.map(async (f) => {
        if (f === META_FILE) return;
        const m = BLOCK_NAME.exec(f);
        const path = join(dir, f);
        const n = Number(m?.[2]);
        const st = m?.[1] === vh ? await stat(path).catch(() => undefined) : undefined;
        // A truncated block is caught here; a damaged one by its checksum when first read.
        if (!st || st.size !== BLOCK_HEADER_BYTES + blockLength(n, this.o.blockSize, p.meta.size)) {
          await unlink(path).catch(ignore);
          return;
        }
        out.push({
          e: { key: `${object.slice(0, 2)}/${object}/${f}`, object, bytes: st.size, verified: false },
          mtime: st.mtimeMs,
        });
      }),
    );
    return out;
  }
}

/**
 * Runs `create` in `dir`, creating the directory first — again if an object drop removed it in
 * between (it removes an object's directory once empty).
 */
async function inDir<T>(dir: string, create: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dir, { recursive: true });
    try {
      return await create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
}

function storeError(what: string, err: unknown): BlockStoreError {
  const e = err as NodeJS.ErrnoException;
  return new BlockStoreError(`${what}: ${e?.code ?? e?.message ?? String(err)}`, isDiskFull(err), err);
}
