// The worker-thread side of SmallFileWriter: writes a batch of small files whose bodies sit in a
// shared arena (open O_EXCL|O_NOFOLLOW, write, fchmod when asked, futimes, close), and reports the
// files that failed and the time per file. Every path was decided and checked on the main thread.
import fs from 'node:fs';
import { parentPort } from 'node:worker_threads';

/** One file of a batch: its body is arena[off, off + len). */
export interface SmallFileWrite {
  path: string;
  mode: number;
  /** Set the mode explicitly (the umask would strip bits). */
  chmod: boolean;
  mtime: number;
  off: number;
  len: number;
}

/** Main thread -> worker: one batch. */
export interface SmallFileBatch {
  id: number;
  arena: SharedArrayBuffer;
  /** open(2) flags: create new, never through a symlink. */
  flags: number;
  atime: number;
  files: readonly SmallFileWrite[];
}

/** Worker -> main thread: the batch is done; `i` indexes `files`. */
export interface SmallFileBatchDone {
  id: number;
  failures: { i: number; code?: string; message: string }[];
  /** Milliseconds the whole batch took on this thread. */
  ms: number;
}

function writeBatch(m: SmallFileBatch): SmallFileBatchDone {
  const t0 = performance.now();
  const arena = new Uint8Array(m.arena);
  const failures: SmallFileBatchDone['failures'] = [];
  const failed = (i: number, err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    failures.push({ i, ...(e.code ? { code: e.code } : {}), message: e.message });
  };
  for (let i = 0; i < m.files.length; i++) {
    const f = m.files[i]!;
    let fd: number;
    try {
      fd = fs.openSync(f.path, m.flags, f.mode);
    } catch (err) {
      failed(i, err);
      continue;
    }
    try {
      let off = f.off;
      const end = f.off + f.len;
      while (off < end) off += fs.writeSync(fd, arena, off, end - off);
      if (f.chmod) fs.fchmodSync(fd, f.mode);
      fs.futimesSync(fd, m.atime, f.mtime);
    } catch (err) {
      failed(i, err);
    } finally {
      fs.closeSync(fd);
    }
  }
  return { id: m.id, failures, ms: performance.now() - t0 };
}

const port = parentPort;
if (!port) throw new Error('small-file-thread runs as a worker thread (see SmallFileWriter)');
port.on('message', (m: SmallFileBatch) => port.postMessage(writeBatch(m)));
