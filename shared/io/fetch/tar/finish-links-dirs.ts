// The last steps of an extraction, once every entry is written: the archive's symlinks (only now,
// when every target can be checked against the final set of links) and the directories' modes and
// mtimes (deepest first, so setting a parent's mtime is the last change to it).
import type { Destination } from './destination.ts';
import { errno } from './destination.ts';
import type { DeferredLink } from './extract-types.ts';
import * as fsc from './fs-calls.ts';
import { checkSymlinkTarget } from './safe-path.ts';

/** Runs `fn` over items, `concurrency` at a time; the first error wins. */
export async function inPool<T>(items: T[], concurrency: number, fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < items.length) await fn(items[i++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

export async function createSymlinks(
  d: Destination,
  concurrency: number,
  onEntry: (() => void) | undefined,
): Promise<void> {
  const isLink = (r: string) => d.symlinks.has(r);
  for (const s of d.symlinks.values()) checkSymlinkTarget(s.entry.path, s.parts, s.target, isLink);
  // On a fast destination, links whose directory exists are made in place; anything already at
  // the path (EEXIST) takes the checked path below, as on a slow destination.
  const links = [...d.symlinks.values()].filter((s) => !symlinkInPlace(d, s, onEntry));
  await inPool(links, concurrency, async (s) => {
    await d.ensureDir(d.parentOf(s.rel), s.entry.path);
    const abs = d.abs(s.rel);
    await d.createNew(s.rel, abs, () => fsc.symlink(s.target, abs));
    await fsc.lutimes(abs, d.atime, s.entry.mtime);
    d.summary.symlinks++;
    onEntry?.();
  });
}

/** The fast path for one symlink: true when it was made (and counted). */
function symlinkInPlace(d: Destination, s: DeferredLink, onEntry: (() => void) | undefined): boolean {
  if (!d.fast || !d.readyDirs.has(d.parentOf(s.rel))) return false;
  const abs = d.abs(s.rel);
  const t0 = performance.now();
  try {
    fsc.symlinkSync(s.target, abs);
  } catch (err) {
    if (errno(err) === 'EEXIST' || errno(err) === 'ELOOP') return false;
    throw err;
  }
  d.markCreated(s.rel);
  fsc.lutimesSync(abs, d.atime, s.entry.mtime);
  d.noteCost((performance.now() - t0) / 2, 'symlink');
  d.summary.symlinks++;
  onEntry?.();
  return true;
}

export async function applyDirectoryMeta(d: Destination, concurrency: number): Promise<void> {
  const dirs = [...d.dirMeta.entries()].sort((a, b) => b[0].split('/').length - a[0].split('/').length);
  let i = 0;
  for (; i < dirs.length && d.fast; i++) {
    const [rel, e] = dirs[i]!;
    const abs = d.abs(rel);
    const t0 = performance.now();
    fsc.chmodSync(abs, d.fileMode(e.mode));
    fsc.utimesSync(abs, d.atime, e.mtime);
    d.noteCost((performance.now() - t0) / 2, 'directory update');
  }
  await inPool(dirs.slice(i), concurrency, async ([rel, e]) => {
    const abs = d.abs(rel);
    await fsc.chmod(abs, d.fileMode(e.mode));
    await fsc.utimes(abs, d.atime, e.mtime);
  });
}
