// Turns an algorithm's code into a directory to run in: a codePath directory is used as is; an
// archive (.tar.gz, .tgz, .tar) is extracted once into `<cacheDir>/code/<sha256 of the archive>`,
// shared by every process and every later run (an atomic rename publishes a complete extraction
// only). Uploaded code (`fileInfo`) is fetched from the object store into the same place.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '../errors.ts';
import type { AlgorithmDefinition, AlgorithmFileInfo } from '../pipeline/types.ts';
import { extractCodeArchive } from './code-archive.ts';

const ARCHIVE = /\.(tar\.gz|tgz|tar)$/i;
/** How long a resolved codePath is trusted before it is looked at again (a replaced archive). */
const RECHECK_MS = 2000;

export class CodeCache {
  /** Keyed by archive path + size + mtime, so an unchanged archive is hashed once per pool. */
  private readonly known = new Map<string, Promise<string>>();
  /** Recent answers, so a hot algorithm's tasks skip the stat() (a thread-pool round trip). */
  private readonly recent = new Map<string, { dir: string; until: number }>();

  /** Uploaded archives by checksum, being fetched or fetched. */
  private readonly uploaded = new Map<string, Promise<string>>();

  constructor(
    private readonly cacheDir: string,
    /** The bytes of an uploaded archive (the object store); without it uploaded code cannot run. */
    private readonly fetchUploaded?: (info: AlgorithmFileInfo) => Promise<Buffer>,
  ) {}

  /** The directory holding an algorithm's code: its uploaded archive, else its codePath. */
  async codeDir(def: Pick<AlgorithmDefinition, 'codePath' | 'fileInfo'>): Promise<string> {
    if (!def.fileInfo) return this.resolve(def.codePath);
    const info = def.fileInfo;
    let dir = this.uploaded.get(info.checksum);
    if (!dir) {
      dir = this.fetchAndExtract(info);
      this.uploaded.set(info.checksum, dir);
      dir.catch(() => this.uploaded.delete(info.checksum));
    }
    return dir;
  }

  private async fetchAndExtract(info: AlgorithmFileInfo): Promise<string> {
    const dest = join(this.cacheDir, 'code', info.checksum);
    if (await stat(dest).catch(() => undefined)) return dest;
    if (!this.fetchUploaded) {
      throw new ValidationError(
        'the code was uploaded, and this worker has no object store to fetch it from',
        'fileInfo',
      );
    }
    const data = await this.fetchUploaded(info);
    const tmp = `${dest}.${info.fileExt}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(join(this.cacheDir, 'code'), { recursive: true });
    await writeFile(tmp, data);
    try {
      const dir = await this.extract(tmp);
      if (dir !== dest)
        throw new ValidationError(`uploaded code ${info.checksum} does not match its checksum`, 'fileInfo');
      return dir;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** The directory holding the code of `codePath` (resolved against the current directory). */
  async resolve(codePath: string | undefined): Promise<string> {
    if (!codePath) return process.cwd();
    const hit = this.recent.get(codePath);
    if (hit && hit.until > Date.now()) return hit.dir;
    const dir = await this.lookup(codePath);
    this.recent.set(codePath, { dir, until: Date.now() + RECHECK_MS });
    return dir;
  }

  private async lookup(codePath: string): Promise<string> {
    const path = resolve(codePath);
    const info = await stat(path).catch(() => undefined);
    if (!info) throw new ValidationError(`codePath '${codePath}' does not exist`, 'codePath');
    if (info.isDirectory()) return path;
    if (!ARCHIVE.test(path)) {
      throw new ValidationError(
        `codePath '${codePath}' is neither a directory nor a .tar.gz/.tgz/.tar archive`,
        'codePath',
      );
    }
    const key = `${path}\0${info.size}\0${info.mtimeMs}`;
    let dir = this.known.get(key);
    if (!dir) {
      dir = this.extract(path);
      this.known.set(key, dir);
      dir.catch(() => this.known.delete(key));
    }
    return dir;
  }

  private async extract(archive: string): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(createReadStream(archive), hash);
    const dest = join(this.cacheDir, 'code', hash.digest('hex'));
    if (await stat(dest).catch(() => undefined)) return dest;
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { recursive: true });
    try {
      await extractCodeArchive(archive, tmp);
      await rename(tmp, dest).catch(async (err: NodeJS.ErrnoException) => {
        // Another pool published the same archive first: theirs is as good as ours.
        if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
        await rm(tmp, { recursive: true, force: true });
      });
      return dest;
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      throw err;
    }
  }
}
