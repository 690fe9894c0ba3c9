// The destination directory of one extraction and what the extraction knows about its paths:
// which this run created (it may replace them, as tar does), which are being written, which
// directories are ready, which names are archive symlinks (nothing is ever written beneath them),
// and whether the file system is fast (a local disk: direct calls on the main thread) or slow (a
// network volume: calls through the thread pool, many at once, so that round trips overlap).
import path from 'node:path';
import { DestinationExistsError, FetchError, UnsafeEntryError } from '../errors.ts';
import type { DeferredLink, ExtractOptions, ExtractSummary } from './extract-types.ts';
import * as fsc from './fs-calls.ts';
import type { TarEntry } from './parser.ts';

/**
 * Cost per operation above which the destination counts as slow. tmpfs or a local disk take
 * 20-100 us per file; a network volume at 1 ms RTT takes 4+ ms (four round trips). A busy CPU
 * inflates the figure too, so it takes several slow operations in a row to switch.
 */
const SLOW_MS = 3;
const SLOW_IN_A_ROW_TO_SWITCH = 3;

export const errno = (e: unknown) => (e as NodeJS.ErrnoException).code;

export class Destination {
  readonly summary: ExtractSummary = {
    files: 0,
    directories: 0,
    symlinks: 0,
    hardlinks: 0,
    skipped: 0,
    bytes: 0,
  };
  readonly umask = process.umask();
  readonly atime = Date.now() / 1000;
  /** Archive directories whose mode and mtime are applied at the end (children change mtimes). */
  readonly dirMeta = new Map<string, TarEntry>();
  /** Paths being written now: a later entry for the same path, or a hard link to it, waits. */
  readonly inflight = new Map<string, Promise<void>>();
  /** Symlinks the archive asks for, created at the end; nothing may be written beneath them. */
  readonly symlinks = new Map<string, DeferredLink>();
  /** Directories whose ensureDir() has resolved: a file there can be written right away. */
  readonly readyDirs = new Set<string>(['']);
  /**
   * The destination is fast: small files go in batches to a writer thread, directories and
   * symlinks are made with direct calls (a few microseconds each, where a thread-pool round trip
   * costs more CPU, and a directory that exists at once lets the files after it be batched).
   */
  fast = true;
  /** Called before waiting for a busy path: a queued batch that holds it must be sent first. */
  beforeWait: () => void = () => {};
  private real = '';
  /** Directories known to be real directories inside the destination (created or checked). */
  private readonly dirs = new Map<string, Promise<void>>();
  /** Paths this run created. */
  private readonly created = new Set<string>();
  private slowInARow = 0;

  constructor(
    private readonly opts: Pick<ExtractOptions, 'dest' | 'overwrite' | 'preservePermissions' | 'warn'>,
  ) {}

  async open(): Promise<void> {
    await fsc.mkdir(this.opts.dest, { recursive: true });
    this.real = await fsc.realpath(this.opts.dest);
  }

  /** The absolute path of `rel` (a path relative to the destination, '/'-separated). */
  abs(rel: string): string {
    return path.join(this.opts.dest, rel);
  }

  parentOf(rel: string): string {
    const slash = rel.lastIndexOf('/');
    return slash < 0 ? '' : rel.slice(0, slash);
  }

  fileMode(mode: number): number {
    return this.opts.preservePermissions ? mode & 0o7777 : mode & 0o1777;
  }

  /** The mode must be set explicitly (the umask would strip bits of it). */
  needsChmod(mode: number): boolean {
    return (mode & ~this.umask) !== mode;
  }

  /** This run made `rel` (a file the writer thread created, say). */
  markCreated(rel: string): void {
    this.created.add(rel);
  }

  /** Waits until nothing writes `rel`. */
  async idle(rel: string): Promise<void> {
    for (let busy = this.inflight.get(rel); busy; busy = this.inflight.get(rel)) {
      this.beforeWait();
      await busy;
    }
  }

  /**
   * Records what one operation cost; several slow ones in a row mean a slow destination, where
   * files are written concurrently and directories through the thread pool from then on.
   */
  noteCost(ms: number, what: string): void {
    this.slowInARow = ms > SLOW_MS ? this.slowInARow + 1 : 0;
    if (this.slowInARow >= SLOW_IN_A_ROW_TO_SWITCH && this.fast) {
      this.fast = false;
      this.opts.warn(`the destination is slow (${ms.toFixed(1)} ms per ${what}): writing files concurrently`);
    }
  }

  /** Makes `rel` a real directory inside the destination, parents first; never follows archive symlinks. */
  ensureDir(rel: string, entryName: string): Promise<void> {
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
    if (!this.fast || this.symlinks.has(rel) || this.inflight.has(rel)) return undefined;
    if (!this.readyDirs.has(this.parentOf(rel))) return undefined;
    const t0 = performance.now();
    try {
      fsc.mkdirSync(this.abs(rel), 0o755);
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

  /** ensureDir through the thread pool, with every check for what may already be there. */
  private async makeDir(rel: string, entryName: string): Promise<void> {
    await this.ensureDir(this.parentOf(rel), entryName);
    if (this.symlinks.has(rel))
      throw new UnsafeEntryError(
        entryName,
        `"${rel}" is a symlink in this archive; refusing to write through it`,
      );
    await this.idle(rel);
    const abs = this.abs(rel);
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
      const inside = real === this.real || real.startsWith(this.real + path.sep);
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
  }

  /**
   * Runs `create` for a new path. If something is there: replace it when allowed (--overwrite, or
   * this run made it) by unlinking first — never by writing through it, whatever it is.
   */
  async createNew<T>(rel: string, abs: string, create: () => Promise<T>): Promise<T> {
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
}
