// `fetch -o FILE`: the downloaded bytes land in a temp file beside FILE and are renamed over it
// at the end, so an interrupted download never leaves a half file under FILE's name. Every error
// names FILE (never the temp name) and its cause, and a bad destination fails before the download.
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { cannotWrite, errno } from '../errors.ts';

const MiB = 1024 * 1024;

/** Checks FILE can be written (its directory exists, FILE is not a directory) before downloading. */
export async function checkOutputFile(file: string): Promise<void> {
  const existing = await stat(file).catch(() => undefined);
  if (existing?.isDirectory()) throw cannotWrite(file, errno('EISDIR'));
  const dir = await stat(path.dirname(file)).catch((err: unknown) => {
    throw cannotWrite(file, err);
  });
  if (!dir.isDirectory()) throw cannotWrite(file, errno('ENOTDIR'));
}

/** Writes `input` to FILE through a temp file and a rename. */
export async function writeOutputFile(input: AsyncIterable<Buffer>, file: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.sluice-${process.pid}.part`);
  const handle = await open(tmp, 'w').catch((err: unknown) => {
    throw cannotWrite(file, err);
  });
  const ws = handle.createWriteStream({ highWaterMark: 4 * MiB });
  // A write error (a full disk) ends the copy at once instead of waiting for a 'drain' that never comes.
  const done = finished(ws);
  done.catch(() => {});
  try {
    const copy = (async () => {
      for await (const b of input) {
        if (!ws.write(b)) await Promise.race([new Promise<void>((r) => ws.once('drain', () => r())), done]);
      }
    })();
    await Promise.race([copy, done]);
    ws.end();
    await done;
    await rename(tmp, file);
  } catch (err) {
    ws.destroy();
    await rm(tmp, { force: true });
    const e = err as NodeJS.ErrnoException;
    throw typeof e?.code === 'string' && e.syscall ? cannotWrite(file, err) : err;
  }
}
