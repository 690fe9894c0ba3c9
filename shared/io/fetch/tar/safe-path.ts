// The path rules that keep extraction inside the destination: entry names and link targets are
// checked lexically here, before anything touches the disk. (What is already on disk — symlinks
// the archive created, pre-existing ones — is checked by the TarExtractor as it goes.)
import { UnsafeEntryError } from '../errors.ts';

/** Splits an entry name into components; rejects absolute names, `..` and NUL bytes. */
export function entryComponents(name: string): string[] {
  if (name.includes('\0')) throw new UnsafeEntryError(name, 'the name contains a NUL byte');
  if (name.startsWith('/')) throw new UnsafeEntryError(name, 'absolute names are not allowed');
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new UnsafeEntryError(name, 'names containing ".." are not allowed');
  return parts;
}

/** Drops the first `n` components (--strip-components); undefined when nothing is left. */
export function stripComponents(parts: string[], n: number): string[] | undefined {
  if (parts.length <= n) return undefined;
  return n ? parts.slice(n) : parts;
}

/**
 * Checks that a symlink at `linkParts` pointing to `target` resolves inside the destination.
 * `isArchiveSymlink(rel)` says whether a path is a symlink this archive creates: a ".." right after
 * one would be resolved by the kernel relative to the symlink's target, not lexically, so it could
 * climb out (`a -> .` then `b -> a/../../etc`); such targets are refused.
 */
export function checkSymlinkTarget(
  linkName: string,
  linkParts: string[],
  target: string,
  isArchiveSymlink: (rel: string) => boolean,
): void {
  if (target === '') throw new UnsafeEntryError(linkName, 'empty symlink target');
  if (target.includes('\0')) throw new UnsafeEntryError(linkName, 'the symlink target contains a NUL byte');
  if (target.startsWith('/'))
    throw new UnsafeEntryError(
      linkName,
      `symlink target "${target}" is absolute (it would point outside the destination)`,
    );
  const stack = linkParts.slice(0, -1);
  for (const c of target.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0)
        throw new UnsafeEntryError(linkName, `symlink target "${target}" points outside the destination`);
      if (isArchiveSymlink(stack.join('/')))
        throw new UnsafeEntryError(
          linkName,
          `symlink target "${target}" climbs out of another symlink with ".."`,
        );
      stack.pop();
    } else stack.push(c);
  }
}
