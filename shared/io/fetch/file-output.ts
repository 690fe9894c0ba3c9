// `fetch -o FILE`: the downloaded bytes land in a partial file beside FILE (`.FILE.sluice-part`)
// and are renamed over it at the end, so an interrupted download never leaves a half file under
// FILE's name. Beside the partial file, `.FILE.sluice-part.json` records what it is a part of (URL,
// size, ETag, Last-Modified): `fetch -c` resumes from it when the source still matches. Every
// error names FILE (never the partial name) and its cause; a bad destination fails before the download.
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/** What a partial download is a part of. */
export interface PartialRecord {
  url: string;
  size: number;
  etag?: string;
  lastModified?: string;
}

export function partialPath(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.sluice-part`);
}

/** The partial download of FILE an earlier run left and what it recorded, if any. */
export async function readPartial(
  file: string,
): Promise<{ bytes: number; record: PartialRecord } | undefined> {
  const part = partialPath(file);
  try {
    const [st, text] = await Promise.all([stat(part), readFile(`${part}.json`, 'utf8')]);
    return { bytes: st.size, record: JSON.parse(text) as PartialRecord };
  } catch {
    return undefined;
  }
}

export async function removePartial(file: string): Promise<void> {
  const part = partialPath(file);
  await Promise.all([rm(part, { force: true }), rm(`${part}.json`, { force: true })]);
}

/**
 * Writes `input` to FILE through the partial file and a rename. `offset` > 0 appends to the
 * partial file (a resumed download); `keepPartial` leaves it (and its record) when the copy fails.
 */
export async function writeOutputFile(
  input: AsyncIterable<Buffer>,
  file: string,
  opts: { offset?: number; keepPartial?: boolean; record?: PartialRecord } = {},
): Promise<void> {
  const tmp = partialPath(file);
  if (opts.record && !opts.offset)
    await writeFile(`${tmp}.json`, JSON.stringify(opts.record)).catch((err: unknown) => {
      throw cannotWrite(file, err);
    });
  const handle = await open(tmp, opts.offset ? 'a' : 'w').catch((err: unknown) => {
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
    await rm(`${tmp}.json`, { force: true });
  } catch (err) {
    ws.destroy();
    if (!opts.keepPartial) await removePartial(file);
    const e = err as NodeJS.ErrnoException;
    throw typeof e?.code === 'string' && e.syscall ? cannotWrite(file, err) : err;
  }
}
