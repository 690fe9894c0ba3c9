// TarExtractor: writes a tar stream into a directory, safely and concurrently. Regular files are
// written by up to `writeWorkers` concurrent jobs (each streams its body as it arrives, so big
// files never sit in memory), small ones in batches on a writer thread while the destination is
// fast (SmallFileBatches); directories are created before their children (Destination); a hard
// link waits only for its own target; symlinks are created last, after every target is checked
// against the final set of links, so nothing is ever written through a symlink the archive created.
import { FetchError, UnsafeEntryError } from '../errors.ts';
import { Destination, errno } from './destination.ts';
import type { DeferredLink, ExtractOptions, ExtractSummary } from './extract-types.ts';
import { FileBody } from './file-body.ts';
import { applyDirectoryMeta, createSymlinks, inPool } from './finish-links-dirs.ts';
import * as fsc from './fs-calls.ts';
import { type TarEntry, TarParser } from './parser.ts';
import { checkSymlinkTarget, entryComponents, stripComponents } from './safe-path.ts';
import { BATCH_MAX_BYTES, type PendingSmallFile, SmallFileBatches } from './small-file-batches.ts';

export class TarExtractor {
  private readonly parser = new TarParser();
  private readonly d: Destination;
  private readonly batches: SmallFileBatches;
  private started: Promise<void> | undefined;
  /** Hard links to archive symlinks, made after them. */
  private readonly deferredLinks: DeferredLink[] = [];
  private readonly jobs = new Set<Promise<void>>();
  private current: FileBody | undefined;
  private small: PendingSmallFile | undefined;
  private pending = 0;
  private error: Error | undefined;
  private progress: (() => void) | undefined;

  constructor(private readonly opts: ExtractOptions) {
    this.d = new Destination(opts);
    this.batches = new SmallFileBatches(this.d, {
      ...(opts.recycler ? { recycler: opts.recycler } : {}),
      ...(opts.onEntry ? { onEntry: opts.onEntry } : {}),
      failed: () => this.error !== undefined,
      track: (rel, job) => this.track(rel, job),
      writeWhole: (f, body, entryName) =>
        this.writeFile(f.rel, entryName, f.mode, f.mtime, FileBody.whole(body)),
    });
    // A batch still being filled may hold the path someone waits for: send it, or it never finishes.
    this.d.beforeWait = () => this.batches.flush();
  }

  get summary(): ExtractSummary {
    return this.d.summary;
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
      if (rel !== undefined && this.d.inflight.get(rel) === done) this.d.inflight.delete(rel);
      this.signal();
    });
    this.jobs.add(done);
    if (rel !== undefined) this.d.inflight.set(rel, done);
  }

  /** Feeds the next bytes of the (decompressed) tar stream; resolves when they may be reused. */
  async write(chunk: Buffer): Promise<void> {
    this.started ??= this.d.open();
    await this.started;
    for (const ev of this.parser.write(chunk)) {
      if (this.error) throw this.error;
      if (ev.kind === 'data') {
        if (this.small) {
          // Held too: a body that continues in the next block keeps this view past write(), and a
          // pooled block must not be decoded into again before the batch copies it.
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
        await this.batches.queue(f);
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
    const d = this.d;
    // A later entry for a path replaces an earlier one (tar semantics), including a pending symlink.
    d.symlinks.delete(rel);
    await d.idle(rel);
    switch (entry.type) {
      case 'directory':
        d.summary.directories++;
        d.dirMeta.set(rel, entry);
        // Not awaited: children wait for it through ensureDir; a failure surfaces via track().
        this.track(undefined, d.ensureDir(rel, entry.path));
        return;
      case 'file': {
        if (
          d.fast &&
          entry.size <= BATCH_MAX_BYTES &&
          d.readyDirs.has(d.parentOf(rel)) &&
          !d.inflight.has(rel)
        ) {
          this.small = { rel, parts, entry, pieces: [] };
          return;
        }
        await this.freeSlot();
        const body = new FileBody();
        if (entry.size > 0) this.current = body;
        else body.end();
        this.track(rel, this.writeFile(rel, entry.path, d.fileMode(entry.mode), entry.mtime, body));
        return;
      }
      case 'hardlink': {
        const tparts = stripComponents(entryComponents(entry.linkpath), this.opts.stripComponents);
        if (!tparts)
          throw new UnsafeEntryError(entry.path, `hard link target "${entry.linkpath}" is stripped away`);
        const target = tparts.join('/');
        if (d.symlinks.has(target)) {
          // Its target is a symlink created at the end: link to it then.
          this.deferredLinks.push({ rel, parts, entry, target });
          return;
        }
        await this.freeSlot();
        this.track(rel, this.hardlink(rel, entry, target));
        return;
      }
      case 'symlink':
        checkSymlinkTarget(entry.path, parts, entry.linkpath, () => false); // early, clear error
        d.symlinks.set(rel, { rel, parts, entry, target: entry.linkpath });
        return;
      case 'chardev':
      case 'blockdev':
      case 'fifo':
        d.summary.skipped++;
        this.opts.warn(
          `skipping ${entry.path}: ${entry.type === 'fifo' ? 'FIFOs' : 'device files'} are not extracted`,
        );
        return;
      default:
        d.summary.skipped++;
        this.opts.warn(`skipping ${entry.path}: unsupported tar entry type "${entry.typeflag}"`);
    }
  }

  /** Waits for a writer slot (a queued batch counts as one: send it, or it never finishes). */
  private async freeSlot(): Promise<void> {
    while (this.jobs.size >= this.opts.writeWorkers && !this.error) {
      this.batches.flush();
      await this.waitProgress();
    }
  }

  private async writeFile(
    rel: string,
    entryName: string,
    mode: number,
    mtime: number,
    body: FileBody,
  ): Promise<void> {
    const d = this.d;
    await d.ensureDir(d.parentOf(rel), entryName);
    const abs = d.abs(rel);
    const fd = await d.createNew(rel, abs, () => fsc.open(abs, fsc.O_CREATE_NEW, mode));
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
          d.summary.bytes += n;
          this.signal();
          continue;
        }
        if (body.ended || this.error) break;
        await body.more();
      }
      if (this.error) return;
      if (d.needsChmod(mode)) await fsc.fchmod(fd, mode);
      await fsc.futimes(fd, d.atime, mtime);
      d.summary.files++;
    } finally {
      await fsc.close(fd);
    }
  }

  private async hardlink(rel: string, entry: TarEntry, target: string): Promise<void> {
    const d = this.d;
    await d.idle(target); // only its own target, not the whole archive
    await d.ensureDir(d.parentOf(target), entry.path);
    await d.ensureDir(d.parentOf(rel), entry.path);
    const abs = d.abs(rel);
    const absTarget = d.abs(target);
    try {
      await d.createNew(rel, abs, () => fsc.link(absTarget, abs));
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
    d.summary.hardlinks++;
  }

  /** Ends the archive: waits for every writer, then creates symlinks and applies directory metadata. */
  async finish(): Promise<ExtractSummary> {
    this.started ??= this.d.open();
    await this.started;
    if (this.error) throw this.error;
    this.parser.end();
    await this.settle();
    this.batches.close();
    if (this.error) throw this.error;
    await createSymlinks(this.d, this.opts.writeWorkers, this.opts.onEntry);
    await inPool(this.deferredLinks, this.opts.writeWorkers, (l) => this.hardlink(l.rel, l.entry, l.target));
    await applyDirectoryMeta(this.d, this.opts.writeWorkers);
    return this.d.summary;
  }

  /** Waits for every running job (after an error too, so no file descriptor is left open). */
  async settle(): Promise<void> {
    this.current?.end();
    this.batches.flush();
    while (this.jobs.size) await Promise.all([...this.jobs]);
  }

  /** Stops after a failure elsewhere (download, decompression): writers finish and close. */
  async abort(reason: Error): Promise<void> {
    if (!this.error) this.error = reason;
    this.signal();
    await this.settle();
    this.batches.close();
  }
}
