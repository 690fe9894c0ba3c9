// The file-system calls of cp, zip and rm, in two flavours behind one interface:
// - threaded: every call is a libuv threadpool job, so -j calls are in flight at once. A volume
//   that answers each request after a network round trip (NFS, EFS, FUSE) needs exactly that.
// - direct: the metadata calls (stat, open, mkdir, rename, unlink, utimes, ...) are made
//   synchronously on the calling thread. On a local disk such a call takes microseconds and the
//   threadpool round trip (queue, wake a thread, post back, resolve a promise) costs more than the
//   call itself. The data transfers (copyFile, read, write) still go to the threadpool, a few at a
//   time (poolFor), so the bytes are copied on the other core while this thread does the metadata.
// `chooseLocalFs` picks by the file-system type of the paths involved (statfs), or as forced.
import {
  chmodSync,
  close as closeCb,
  closeSync,
  type Dirent,
  existsSync,
  fchmodSync,
  constants as fsConstants,
  fstatSync,
  futimesSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  open as openCb,
  openSync,
  read as readCb,
  readdirSync,
  readlinkSync,
  renameSync,
  rmdirSync,
  type Stats,
  statfsSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  write as writeCb,
  writev as writevCb,
} from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';

/** The part of a FileHandle that the IO commands use; an open fd in direct mode. */
export interface LocalFile {
  /** The open file descriptor (for `/proc/self/fd/N`). */
  readonly fd: number;
  stat(): Promise<Stats>;
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /** Appends at the file position. */
  writev(buffers: Buffer[]): Promise<{ bytesWritten: number }>;
  chmod(mode: number): Promise<void>;
  utimes(atime: number, mtime: number): Promise<void>;
  close(): Promise<void>;
}

export interface LocalFs {
  /** 'direct' (synchronous calls) or 'threaded' (libuv threadpool). */
  readonly mode: 'direct' | 'threaded';
  lstat(path: string): Promise<Stats>;
  stat(path: string): Promise<Stats>;
  readdir(path: string): Promise<Dirent[]>;
  readlink(path: string): Promise<string>;
  open(path: string, flags: string | number, mode?: number): Promise<LocalFile>;
  copyFile(src: string, dst: string, mode: number): Promise<void>;
  mkdir(path: string, mode: number): Promise<void>;
  symlink(target: string, path: string): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  utimes(path: string, atime: number, mtime: number): Promise<void>;
  lutimes(path: string, atime: number, mtime: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  rmdir(path: string): Promise<void>;
  /**
   * Opens a directory (O_DIRECTORY) without following a symlink in its last component
   * (O_NOFOLLOW) unless `follow` (a root the user named); returns the fd.
   */
  openDirectory(path: string, follow?: boolean): Promise<number>;
  closeFd(fd: number): Promise<void>;
}

/** Acting through /proc/self/fd/N (an open directory, an open file): Linux with /proc mounted. */
export const PROC_FD = process.platform === 'linux' && existsSync('/proc/self/fd');

/**
 * Opening a file the walk found: never through a symlink in the last component (a file swapped
 * for a link fails with ELOOP), and never blocking on a FIFO swapped in (it is then refused as
 * "not a regular file" by the fstat that follows).
 */
export const READ_NOFOLLOW = fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK;

const O_DIRECTORY = fsConstants.O_RDONLY | fsConstants.O_DIRECTORY;
const dirFlags = (follow?: boolean) => (follow ? O_DIRECTORY : O_DIRECTORY | fsConstants.O_NOFOLLOW);
const openCbAsync = promisify(openCb);
const closeCbAsync = promisify(closeCb);

export const threadedFs: LocalFs = {
  mode: 'threaded',
  lstat: (p) => fsp.lstat(p),
  stat: (p) => fsp.stat(p),
  readdir: (p) => fsp.readdir(p, { withFileTypes: true }),
  readlink: (p) => fsp.readlink(p),
  open: (p, flags, mode) => fsp.open(p, flags, mode),
  copyFile: (s, d, mode) => fsp.copyFile(s, d, mode),
  mkdir: async (p, mode) => {
    await fsp.mkdir(p, { mode });
  },
  symlink: (t, p) => fsp.symlink(t, p),
  chmod: (p, mode) => fsp.chmod(p, mode),
  utimes: (p, a, m) => fsp.utimes(p, a, m),
  lutimes: (p, a, m) => fsp.lutimes(p, a, m),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  rmdir: (p) => fsp.rmdir(p),
  openDirectory: (p, follow) => openCbAsync(p, dirFlags(follow)),
  closeFd: (fd) => closeCbAsync(fd),
};

/** A synchronous call as a settled promise: callers await both flavours the same way. */
function direct<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => Promise<R> {
  return (...args) => {
    try {
      return Promise.resolve(fn(...args));
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

const readAsync = promisify(readCb);
const writeAsync = promisify(writeCb);
const writevAsync = promisify(writevCb);

/** An open fd: metadata calls direct, data transfers on the threadpool. */
class DirectFile implements LocalFile {
  constructor(public fd: number) {}
  stat = direct(() => fstatSync(this.fd));
  read = (buffer: Buffer, offset: number, length: number, position: number) =>
    readAsync(this.fd, buffer, offset, length, position);
  write = (buffer: Buffer, offset: number, length: number, position: number) =>
    writeAsync(this.fd, buffer, offset, length, position);
  writev = (buffers: Buffer[]) => writevAsync(this.fd, buffers);
  chmod = direct((mode: number) => fchmodSync(this.fd, mode));
  utimes = direct((atime: number, mtime: number) => futimesSync(this.fd, atime, mtime));
  close = direct(() => {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  });
}

export const directFs: LocalFs = {
  mode: 'direct',
  lstat: direct((p: string) => lstatSync(p)),
  stat: direct((p: string) => statSync(p)),
  readdir: direct((p: string) => readdirSync(p, { withFileTypes: true })),
  readlink: direct((p: string) => readlinkSync(p)),
  open: direct(
    (p: string, flags: string | number, mode?: number) => new DirectFile(openSync(p, flags, mode)),
  ),
  copyFile: (s, d, mode) => fsp.copyFile(s, d, mode),
  mkdir: direct((p: string, mode: number) => {
    mkdirSync(p, { mode });
  }),
  symlink: direct((t: string, p: string) => symlinkSync(t, p)),
  chmod: direct((p: string, mode: number) => chmodSync(p, mode)),
  utimes: direct((p: string, a: number, m: number) => utimesSync(p, a, m)),
  lutimes: direct((p: string, a: number, m: number) => lutimesSync(p, a, m)),
  rename: direct((a: string, b: string) => renameSync(a, b)),
  unlink: direct((p: string) => unlinkSync(p)),
  rmdir: direct((p: string) => rmdirSync(p)),
  openDirectory: direct((p: string, follow?: boolean) => openSync(p, dirFlags(follow))),
  closeFd: direct((fd: number) => closeSync(fd)),
};

/**
 * statfs f_type of Linux file systems on a local block device or in memory, where a call costs
 * microseconds. Anything else (nfs, cifs/smb, fuse, ceph, 9p, lustre, gpfs, unknown) is treated as
 * a network volume.
 */
const LOCAL_DISK_TYPES = new Set([
  0xef53, // ext2/ext3/ext4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0x858458f6, // ramfs
  0x794c7630, // overlayfs (container root file systems)
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0xca451a4e, // bcachefs
  0x3153464a, // jfs
  0x52654973, // reiserfs
  0x4d44, // vfat
  0x2011bab0, // exfat
  0x73717368, // squashfs
]);

/** How to drive the file system: decided from its type, or forced (`--volume local|network`). */
export type VolumeKind = 'auto' | 'local' | 'network';

/** The file-system type of `path`, or of its nearest existing ancestor (a destination to create). */
function fsType(path: string): number | bigint | undefined {
  for (let p = path; ; p = dirname(p)) {
    try {
      return statfsSync(p).type;
    } catch {
      if (dirname(p) === p) return undefined;
    }
  }
}

/** True when every path lies on a local-disk file system (Linux; elsewhere the types differ). */
export function allOnLocalDisk(paths: readonly string[]): boolean {
  if (process.platform !== 'linux') return false;
  return paths.every((p) => {
    const t = fsType(p);
    return t !== undefined && LOCAL_DISK_TYPES.has(Number(t));
  });
}

/** The flavour for an operation over `paths` (the local sources and destinations it touches). */
export function chooseLocalFs(paths: readonly string[], volume: VolumeKind = 'auto'): LocalFs {
  if (volume === 'local') return directFs;
  if (volume === 'network') return threadedFs;
  return paths.length > 0 && allOnLocalDisk(paths) ? directFs : threadedFs;
}
