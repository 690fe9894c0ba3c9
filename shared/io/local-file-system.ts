// Tells a local file system (tmpfs, ext4, xfs...) from a network or FUSE one. On a local one a
// small write, utimes or rename takes microseconds, less than handing it to the libuv threadpool
// and back (measured: 2000 files x 5 calls cost ~0.38 s of CPU through the pool, 0.13 s inline),
// so downloads write small files with synchronous calls there; anywhere else (NFS, FUSE, SMB,
// unknown) a call can take a round trip and must stay asynchronous, many in flight.
import { statfs } from 'node:fs/promises';

/** statfs(2) f_type of Linux file systems whose metadata and page-cache writes are local. */
const LOCAL_TYPES = new Set([
  0x01021994, // tmpfs
  0x858458f6, // ramfs
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0x794c7630, // overlayfs (containers; its upper layer is a local file system)
]);

/** True when `path` (an existing directory) is on a local file system of a known kind (Linux). */
export async function isLocalFileSystem(
  path: string,
  platform: NodeJS.Platform = process.platform,
): Promise<boolean> {
  if (platform !== 'linux') return false;
  try {
    return LOCAL_TYPES.has((await statfs(path)).type);
  } catch {
    return false;
  }
}
