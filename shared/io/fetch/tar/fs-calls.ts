// The few fs calls the extractor makes per file, as promises over the callback API (lighter than
// fs/promises FileHandles: no object per open file, one thread-pool job per call), and the
// synchronous ones it uses while the destination is fast.
import fs from 'node:fs';
import { promisify } from 'node:util';

export const open = promisify(fs.open);
export const close = promisify(fs.close);
export const futimes = promisify(fs.futimes);
export const fchmod = promisify(fs.fchmod);
export const mkdir = promisify(fs.mkdir);
export const lstat = promisify(fs.lstat);
export const unlink = promisify(fs.unlink);
export const link = promisify(fs.link);
export const symlink = promisify(fs.symlink);
export const lutimes = promisify(fs.lutimes);
export const chmod = promisify(fs.chmod);
export const utimes = promisify(fs.utimes);
export const realpath = promisify(fs.realpath);
// Synchronous, for a fast destination (see TarExtractor): cheaper than a thread-pool round trip.
export const mkdirSync = fs.mkdirSync;
export const chmodSync = fs.chmodSync;
export const utimesSync = fs.utimesSync;
export const symlinkSync = fs.symlinkSync;
export const lutimesSync = fs.lutimesSync;

const writev = promisify(fs.writev);

/** Writes every buffer (handles short writes; at most 1024 buffers per system call). */
export async function writeAll(fd: number, bufs: Buffer[]): Promise<void> {
  let list = bufs;
  while (list.length) {
    const batch = list.length > 1024 ? list.slice(0, 1024) : list;
    let want = 0;
    for (const b of batch) want += b.length;
    let wrote = (await writev(fd, batch)).bytesWritten;
    if (wrote === want) {
      list = list.length > 1024 ? list.slice(1024) : [];
      continue;
    }
    // Short write: drop what was written and go again.
    const rest: Buffer[] = [];
    for (const b of batch) {
      if (wrote >= b.length) wrote -= b.length;
      else {
        rest.push(wrote ? b.subarray(wrote) : b);
        wrote = 0;
      }
    }
    list = rest.concat(list.length > 1024 ? list.slice(1024) : []);
  }
}

export const O_CREATE_NEW =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;
