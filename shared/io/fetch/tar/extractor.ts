// TarExtractor: writes a tar stream into a directory, safely and concurrently. Regular files are
// written by up to `writeWorkers` concurrent jobs (each streams its body as it arrives, so big
// files never sit in memory); directories are created before their children; a hard link waits
// only for its own target; symlinks are created last, after every target is checked against the
// final set of links, so nothing is ever written through a symlink the archive created.
import path from 'node:path';
import type { BlockRecycler } from '../block-recycler.ts';
import { DestinationExistsError, FetchError, UnsafeEntryError } from '../errors.ts';
import * as fsc from './fs-calls.ts';
import { type TarEntry, TarParser } from './parser.ts';
import { checkSymlinkTarget, entryComponents, stripComponents } from './safe-path.ts';
import { type BatchResult, SmallFileWriter } from './small-file-writer.ts';

export interface ExtractOptions {
  /** Absolute destination directory; created if missing. */
  dest: string;
  stripComponents: number;
  /** Replace existing files (default: refuse). */
  overwrite: boolean;
  /** Keep setuid/setgid bits (default: stripped). */
  preservePermissions: boolean;
  writeWorkers: number;
  /** Body bytes handed to writers but not yet written, at most (back-pressure on the stream). */
  maxPendingBytes: number;
  warn: (line: string) => void;
  /** Progress: a file (or link, dir) is done. */
  onEntry?: () => void;
  /** When the input blocks are pooled: views kept past write() are held, and dropped once written. */
  recycler?: BlockRecycler;
}

export interface ExtractSummary {
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  skipped: number;
  /** Bytes of regular-file content written. */
  bytes: number;
}

/** A regular file being written: body pieces queue here until its job writes them. */
class FileBody {
  pieces: Buffer[] = [];
  ended = false;
  private wake: (() => void) | undefined;
  push(b: Buffer): void {
    this.pieces.push(b);
    this.notify();
  }
  end(): void {
    this.ended = true;
    this.notify();
  }
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  more(): Promise<void> {
    return new Promise((r) => {
      this.wake = r;
    });
  }
}

interface Deferred {
  rel: string;
  parts: string[];
  entry: TarEntry;
  target: string;
}

const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * Small files go in batches to a writer thread (SmallFileWriter) while that is cheap (a local disk,
 * tmpfs: four system calls per file, one thread beside the main one). When the destination is slow
 * (a network volume), the measured cost per file rises and every file goes to the concurrent
 * writers instead, where latency overlaps.
 * While the destination is fast, directories are also created (and at the end get their mode and
 * mtime) with synchronous calls on the main thread: a few microseconds each, where a thread-pool
 * round trip costs more CPU (wake-ups, callbacks), and a directory that exists at once lets the
 * files that follow it in the archive go into a batch instead of through the thread pool.
 */
const BATCH_MAX_BYTES = SmallFileWriter.MAX_FILE;
/**
 * Per-file cost on the writer thread above which the destination counts as slow. tmpfs or a local
 * disk take 20-100 us per file; a network volume at 1 ms RTT takes 4+ ms (four round trips).
 * A busy CPU inflates the figure too, so it takes several slow batches in a row to switch.
 */
const BATCH_SLOW_MS = 3;
const SLOW_BATCHES_TO_SWITCH = 3;

/** A small file whose body is being collected before it is queued for the writer thread. */
interface PendingSmallFile {
  rel: string;
  parts: string[];
  entry: TarEntry;
  pieces: Buffer[];
}

export class TarExtractor {
  readonly summary: ExtractSummary = {
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    skipped: 0,
    bytes: 0,
  };
  private readonly parser = new TarParser();
  private readonly umask = process.umask();
  private readonly atime = Date.now() / 1000;
  private destReal = '';
  private started: Promise<void> | undefined;
  /** Directories known to be real directories inside the destination (created or checked). */
  private readonly dirs = new Map<string, Promise<void>>();
  /** Archive directories whose mode and mtime are applied at the end (children change mtimes). */
  private readonly dirMeta = new Map<string, TarEntry>();
  /** Paths being written now: a later entry for the same path, or a hard link to it, waits. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Paths this run created (it may replace its own entries, as tar does, without --overwrite). */
  private readonly created = new Set<string>();
  /** Symlinks the archive asks for, created at the end; nothing may be written beneath them. */
  private readonly symlinks = new Map<string, Deferred>();
  private readonly deferredLinks: Deferred[] = [];
  private readonly jobs = new Set<Promise<void>>();
  private current: FileBody | undefined;
  private small: PendingSmallFile | undefined;
  /** Directories whose ensureDir() has resolved: a file there can be written right away. */
  private readonly readyDirs = new Set<string>(['']);
  /** The destination is fast (see BATCH_SLOW_MS): batch small files, make directories in place. */
  private batchWrites = true;
  private slowBatches = 0;
  private writer: SmallFileWriter | undefined;
  /** Per batch: the promise `inflight` holds for its files. */
  private readonly batchDone = new WeakMap<Promise<BatchResult>, Promise<void>>();
  private pending = 0;
  private error: Error | undefined;
  private progress: (() => void) | undefined;

  constructor(private readonly opts: ExtractOptions) {}

  private async start(): Promise<void> {
    await fsc.mkdir(this.opts.dest, { recursive: true });
    this.destReal = await fsc.realpath(this.opts.dest);
  }

  private signal(): void {
    const p = this.progress;
    this.progress = undefined;
    p?.();
  }

  private waitProgress(): Promise<void> {
    return new Promise((r) => {
      this.progress = r;
    });
  }

  /** Runs `job` in the background; `rel` (if given) marks the path busy until it ends. */
  private track(rel: string | undefined, job: Promise<void>): void {
    const p = job.then(
      () => {
        this.opts.onEntry?.();
      },
      (err) => {
        if (!this.error) this.error = err;
      },
    );
    const done = p.finally(() => {
      this.jobs.delete(done);
      if (rel !== undefined && this.inflight.get(rel) === done) this.inflight.delete(rel);
      this.signal();
    });
    this.jobs.add(done);
    if (rel !== undefined) this.inflight.set(rel, done);
  }

  /** Feeds the next bytes of the (decompressed) tar stream; resolves when they may be reused. */
  async write(chunk: Buffer): Promise<void> {
    this.started ??= this.start();
    await this.started;
    for (const ev of this.parser.write(chunk)) {
      if (this.error) throw this.error;
      if (ev.kind === 'data') {
        if (this.small) {
          // Held too: a body that continues in the next block keeps this view past write(), and a
          // pooled block must not be decoded into again before queueSmall() copies it.
          this.opts.recycler?.hold(ev.data.buffer);
          this.small.pieces.push(ev.data);
        } else if (this.current) {
          this.opts.recycler?.hold(ev.data.buffer);
          this.current.push(ev.data);
          this.pending += ev.data.length;
          while (this.pending > this.opts.maxPendingBytes && !this.error) await this.waitProgress();
        }
      } else if (ev.kind === 'entry') await this.begin(ev.entry);
      else if (this.small) {
        const f = this.small;
        this.small = undefined;
        await this.queueSmall(f);
      } else {
        this.current?.end();
        this.current = undefined;
      }
    }
    if (this.error) throw this.error;
  }

  private async begin(entry: TarEntry): Promise<void> {
    const parts = stripComponents(entryComponents(entry.path), this.opts.stripComponents);
    if (!parts) return; // the root itself, or stripped away
    const rel = parts.join('/');
    // A later entry for a path replaces an earlier one (tar semantics), including a pending symlink.
    this.symlinks.delete(rel);
    await this.idle(rel);
    switch (entry.type) {
      case 'directory':
        this.summary.directories++;
        this.dirMeta.set(rel, entry);
        // Not awaited: children wait for it through ensureDir; a failure surfaces via track().
        this.track(undefined, this.ensureDir(rel, entry.path));
        return;
      case 'file': {
        if (
          this.batchWrites &&
          entry.size <= BATCH_MAX_BYTES &&
          this.readyDirs.has(this.parentOf(rel)) &&
          !this.inflight.has(rel)
        ) {
          this.small = { rel, parts, entry, pieces: [] };
          return;
        }
        await this.freeSlot();
        const body = new FileBody();
        if (entry.size > 0) this.current = body;
        else body.end();
        this.track(
          rel,
          this.writeFile(
            rel,
            path.join(this.opts.dest, ...parts),
            entry.path,
            this.fileMode(entry.mode),
            entry.mtime,
            body,
          ),
        );
        return;
      }
      case 'hardlink': {
        const tparts = stripComponents(entryComponents(entry.linkpath), this.opts.stripComponents);
        if (!tparts)
          throw new UnsafeEntryError(entry.path, `hard link target "${entry.linkpath}" is stripped away`);
        const target = tparts.join('/');
        if (this.symlinks.has(target)) {
          // Its target is a symlink created at the end: link to it then.
          this.deferredLinks.push({ rel, parts, entry, target });
          return;
        }
        await this.freeSlot();
        this.track(rel, this.hardlink(rel, parts, entry, target));
        return;
      }
      case 'symlink':
        checkSymlinkTarget(entry.path, parts, entry.linkpath, () => false); // early, clear error
        this.symlinks.set(rel, { rel, parts, entry, target: entry.linkpath });
        return;
      case 'chardev':
      case 'blockdev':
      case 'fifo':
        this.summary.skipped++;
        this.opts.warn(
          `skipping ${entry.path}: ${entry.type === 'fifo' ? 'FIFOs' : 'device files'} are not extracted`,
        );
        return;
      default:
        this.summary.skipped++;
        this.opts.warn(`skipping ${entry.path}: unsupported tar entry type "${entry.typeflag}"`);
    }
  }

  /** Makes `rel` a real directory inside the destination, parents first; never follows archive symlinks. */
  private ensureDir(rel: string, entryName: string): Promise<void> {
    if (rel === '') return Promise.resolve();
    let p = this.dirs.get(rel);
    if (p) return p;
    p = this.mkdirInPlace(rel) ?? this.makeDir(rel, entryName);
    p.then(
      () => this.readyDirs.add(rel),
      () => {},
    );
    this.dirs.set(rel, p);
    return p;
  }

  /**
   * The fast path of ensureDir (a fast destination, the parent ready, nothing pending on the
   * path): mkdir right now. Undefined when the slow path must decide (it also handles EEXIST).
   */
  private mkdirInPlace(rel: string): Promise<void> | undefined {
    if (!this.batchWrites || this.symlinks.has(rel) || this.inflight.has(rel)) return undefined;
    if (!this.readyDirs.has(this.parentOf(rel))) return undefined;
    const t0 = performance.now();
    try {
      fsc.mkdirSync(path.join(this.opts.dest, rel), 0o755);
    } catch (err) {
      if (errno(err) === 'EEXIST') return undefined;
      return Promise.reject(err);
    } finally {
      this.noteCost(performance.now() - t0, 'mkdir');
    }
    this.created.add(rel);
    this.readyDirs.add(rel); // at once: the files that follow can be batched
    return Promise.resolve();
  }

  /**
   * Records what one operation cost on the destination; several slow ones in a row mean a slow
   * destination (a network volume), where files are written concurrently and directories through
   * the thread pool, so that round trips overlap.
   */
  private noteCost(ms: number, what: string): void {
    this.slowBatches = ms > BATCH_SLOW_MS ? this.slowBatches + 1 : 0;
    if (this.slowBatches >= SLOW_BATCHES_TO_SWITCH && this.batchWrites) {
      this.batchWrites = false;
      this.opts.warn(`the destination is slow (${ms.toFixed(1)} ms per ${what}): writing files concurrently`);
    }
  }

  /** ensureDir through the thread pool, with every check for what may already be there. */
  private makeDir(rel: string, entryName: string): Promise<void> {
    return (async () => {
      const slash = rel.lastIndexOf('/');
      await this.ensureDir(slash < 0 ? '' : rel.slice(0, slash), entryName);
      if (this.symlinks.has(rel))
        throw new UnsafeEntryError(
          entryName,
          `"${rel}" is a symlink in this archive; refusing to write through it`,
        );
      await this.idle(rel);
      const abs = path.join(this.opts.dest, rel);
      try {
        await fsc.mkdir(abs, 0o755);
        this.created.add(rel);
        return;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      const st = await fsc.lstat(abs);
      if (st.isDirectory()) return;
      if (st.isSymbolicLink() && !this.created.has(rel)) {
        // A symlink that was there before: follow it only if it stays inside the destination.
        const real = await fsc.realpath(abs).catch(() => '');
        const inside = real === this.destReal || real.startsWith(this.destReal + path.sep);
        const rst = real ? await fsc.lstat(real) : undefined;
        if (inside && rst?.isDirectory()) return;
        throw new UnsafeEntryError(
          entryName,
          `"${rel}" is an existing symlink that leads outside the destination`,
        );
      }
      if (!this.opts.overwrite && !this.created.has(rel)) throw new DestinationExistsError(abs);
      await fsc.unlink(abs);
      await fsc.mkdir(abs, 0o755);
      this.created.add(rel);
    })();
  }

  /** Waits for a writer slot (a queued batch counts as one: send it, or it never finishes). */
  private async freeSlot(): Promise<void> {
    while (this.jobs.size >= this.opts.writeWorkers && !this.error) {
      this.writer?.flush();
      await this.waitProgress();
    }
  }

  /** Waits until nothing writes `rel` (sending a queued batch first: it may hold it). */
  private async idle(rel: string): Promise<void> {
    for (let busy = this.inflight.get(rel); busy; busy = this.inflight.get(rel)) {
      this.writer?.flush();
      await busy;
    }
  }

  /** Queues a small file, whose whole body is here, for the writer thread. */
  private async queueSmall(f: PendingSmallFile): Promise<void> {
    let len = 0;
    for (const p of f.pieces) len += p.length;
    this.writer ??= new SmallFileWriter(this.atime);
    while (this.writer.saturated && !this.writer.fits(len) && !this.error) await this.writer.oneDone();
    const mode = this.fileMode(f.entry.mode);
    let done: Promise<BatchResult>;
    try {
      done = this.writer.add(
        {
          rel: f.rel,
          path: path.join(this.opts.dest, ...f.parts),
          mode,
          chmod: (mode & ~this.umask) !== mode,
          mtime: f.entry.mtime,
        },
        f.pieces,
      );
    } finally {
      // add() has copied the body into its arena.
      if (this.opts.recycler) for (const p of f.pieces) this.opts.recycler.drop(p.buffer);
    }
    let forBatch = this.batchDone.get(done);
    if (!forBatch) {
      forBatch = done.then(
        () => {},
        () => {},
      );
      this.batchDone.set(done, forBatch);
      this.track(undefined, this.settleBatch(done, forBatch, f.entry.path));
    }
    this.inflight.set(f.rel, forBatch);
  }

  /** Books a finished batch; a file that already existed goes through the replace-or-refuse path. */
  private async settleBatch(
    done: Promise<BatchResult>,
    forBatch: Promise<void>,
    entryName: string,
  ): Promise<void> {
    const r = await done;
    this.noteCost(r.msPerFile, 'file');
    const failed = new Set(r.failures.map((x) => x.file));
    for (const f of r.files) {
      if (this.inflight.get(f.rel) === forBatch) this.inflight.delete(f.rel);
      if (failed.has(f)) continue;
      this.created.add(f.rel);
      this.summary.files++;
      this.summary.bytes += f.len;
      this.opts.onEntry?.();
    }
    for (const x of r.failures) {
      if (x.code !== 'EEXIST' && x.code !== 'ELOOP')
        throw new FetchError(
          `${x.file.path}: ${x.message}`,
          x.code === 'ENOSPC' ? 'NO_SPACE' : 'WRITE_FAILED',
          500,
        );
      const body = new FileBody();
      body.pieces = [x.body];
      body.end();
      this.track(
        x.file.rel,
        this.writeFile(x.file.rel, x.file.path, entryName, x.file.mode, x.file.mtime, body),
      );
    }
  }

  private parentOf(rel: string): string {
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? '' : rel.slice(0, slash);
  }

  /**
   * Runs `create` for a new path. If something is there: replace it when allowed (--overwrite, or
   * this run made it) by unlinking first — never by writing through it, whatever it is.
   */
  private async createNew<T>(rel: string, abs: string, create: () => Promise<T>): Promise<T> {
    try {
      const r = await create();
      this.created.add(rel);
      return r;
    } catch (err) {
      if (errno(err) !== 'EEXIST' && errno(err) !== 'ELOOP') throw err;
    }
    const st = await fsc.lstat(abs);
    if (st.isDirectory())
      throw new FetchError(`${abs} is a directory; cannot replace it with a file`, 'DESTINATION_EXISTS', 409);
    if (!this.opts.overwrite && !this.created.has(rel)) throw new DestinationExistsError(abs);
    await fsc.unlink(abs);
    const r = await create();
    this.created.add(rel);
    return r;
  }

  private fileMode(mode: number): number {
    return this.opts.preservePermissions ? mode & 0o7777 : mode & 0o1777;
  }

  private async writeFile(
    rel: string,
    abs: string,
    entryName: string,
    mode: number,
    mtime: number,
    body: FileBody,
  ): Promise<void> {
    await this.ensureDir(this.parentOf(rel), entryName);
    const fd = await this.createNew(rel, abs, () => fsc.open(abs, fsc.O_CREATE_NEW, mode));
    try {
      for (;;) {
        if (body.pieces.length) {
          const bufs = body.pieces;
          body.pieces = [];
          let n = 0;
          for (const b of bufs) n += b.length;
          await fsc.writeAll(fd, bufs);
          if (this.opts.recycler) for (const b of bufs) this.opts.recycler.drop(b.buffer);
          this.pending -= n;
          this.summary.bytes += n;
          this.signal();
          continue;
        }
        if (body.ended || this.error) break;
        await body.more();
      }
      if (this.error) return;
      if ((mode & ~this.umask) !== mode) await fsc.fchmod(fd, mode);
      await fsc.futimes(fd, this.atime, mtime);
      this.summary.files++;
    } finally {
      await fsc.close(fd);
    }
  }

  private async hardlink(rel: string, parts: string[], entry: TarEntry, target: string): Promise<void> {
    await this.idle(target); // only its own target, not the whole archive
    await this.ensureDir(this.parentOf(target), entry.path);
    await this.ensureDir(this.parentOf(rel), entry.path);
    const abs = path.join(this.opts.dest, ...parts);
    const absTarget = path.join(this.opts.dest, target);
    try {
      await this.createNew(rel, abs, () => fsc.link(absTarget, abs));
    } catch (err) {
      if (errno(err) === 'ENOENT')
        throw new FetchError(
          `hard link ${entry.path}: its target "${entry.linkpath}" does not exist`,
          'BAD_ARCHIVE',
          422,
        );
      if (errno(err) === 'EPERM')
        throw new UnsafeEntryError(entry.path, `hard link target "${entry.linkpath}" is a directory`);
      throw err;
    }
    this.summary.hardlinks++;
  }

  /** Ends the archive: waits for every writer, then creates symlinks and applies directory metadata. */
  async finish(): Promise<ExtractSummary> {
    this.started ??= this.start();
    await this.started;
    if (this.error) throw this.error;
    this.parser.end();
    await this.settle();
    this.writer?.close();
    if (this.error) throw this.error;
    const isLink = (r: string) => this.symlinks.has(r);
    for (const s of this.symlinks.values()) checkSymlinkTarget(s.entry.path, s.parts, s.target, isLink);
    // On a fast destination, links whose directory exists are made in place; anything already at
    // the path (EEXIST) takes the checked path below, as on a slow destination.
    const links = [...this.symlinks.values()].filter((s) => !this.symlinkInPlace(s));
    await this.pool(links, async (s) => {
      await this.ensureDir(this.parentOf(s.rel), s.entry.path);
      const abs = path.join(this.opts.dest, ...s.parts);
      await this.createNew(s.rel, abs, () => fsc.symlink(s.target, abs));
      await fsc.lutimes(abs, this.atime, s.entry.mtime);
      this.summary.symlinks++;
      this.opts.onEntry?.();
    });
    await this.pool(this.deferredLinks, (d) => this.hardlink(d.rel, d.parts, d.entry, d.target));
    // Deepest first, so setting a parent's mtime is the last change to it.
    const dirs = [...this.dirMeta.entries()].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
    let i = 0;
    for (; i < dirs.length && this.batchWrites; i++) {
      const [rel, e] = dirs[i]!;
      const abs = path.join(this.opts.dest, rel);
      const t0 = performance.now();
      fsc.chmodSync(abs, this.fileMode(e.mode));
      fsc.utimesSync(abs, this.atime, e.mtime);
      this.noteCost((performance.now() - t0) / 2, 'directory update');
    }
    await this.pool(dirs.slice(i), async ([rel, e]) => {
      const abs = path.join(this.opts.dest, rel);
      await fsc.chmod(abs, this.fileMode(e.mode));
      await fsc.utimes(abs, this.atime, e.mtime);
    });
    return this.summary;
  }

  /** The fast path for one symlink at the end: true when it was made (and counted). */
  private symlinkInPlace(s: Deferred): boolean {
    if (!this.batchWrites || !this.readyDirs.has(this.parentOf(s.rel))) return false;
    const abs = path.join(this.opts.dest, ...s.parts);
    const t0 = performance.now();
    try {
      fsc.symlinkSync(s.target, abs);
    } catch (err) {
      if (errno(err) === 'EEXIST' || errno(err) === 'ELOOP') return false;
      throw err;
    }
    this.created.add(s.rel);
    fsc.lutimesSync(abs, this.atime, s.entry.mtime);
    this.noteCost((performance.now() - t0) / 2, 'symlink');
    this.summary.symlinks++;
    this.opts.onEntry?.();
    return true;
  }

  /** Runs `fn` over items with the writer concurrency; the first error wins. */
  private async pool<T>(items: T[], fn: (t: T) => Promise<void>): Promise<void> {
    let i = 0;
    const worker = async () => {
      while (i < items.length) await fn(items[i++]!);
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.writeWorkers, items.length) }, worker));
  }

  /** Waits for every running job (after an error too, so no file descriptor is left open). */
  async settle(): Promise<void> {
    this.current?.end();
    this.writer?.flush();
    while (this.jobs.size) await Promise.all([...this.jobs]);
  }

  /** Stops after a failure elsewhere (download, decompression): writers finish and close. */
  async abort(reason: Error): Promise<void> {
    if (!this.error) this.error = reason;
    this.signal();
    await this.settle();
    this.writer?.close();
  }
}
