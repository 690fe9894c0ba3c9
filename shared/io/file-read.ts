// Reading local files with the fewest round trips: small files with one read into one buffer,
// large ones as ordered chunks read at several offsets at once (positional reads), because a
// network volume gives one sequential reader only ~2 requests in flight.
import { CHUNK_SIZE, CHUNKS_IN_FLIGHT, READ_PIECE } from './constants.ts';
import { IoItemError } from './errors.ts';
import type { LocalFile } from './local-fs.ts';
import type { MemoryBudget } from './memory-budget.ts';

/** What reading needs of a file: a FileHandle or a LocalFile of either flavour. */
export type ReadableFile = Pick<LocalFile, 'read'>;

/** Fills `buf[0..length)` from `position`; throws if the file ends early (it shrank meanwhile). */
export async function readExactly(
  fh: ReadableFile,
  buf: Buffer,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) throw new IoItemError('file shrank while it was being read', 'FILE_CHANGED');
    done += bytesRead;
  }
}

/** The whole file (of known `size`) in one buffer. The caller holds `size` bytes of the budget. */
export async function readWhole(fh: ReadableFile, size: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(size);
  await readExactly(fh, buf, size, 0);
  return buf;
}

export interface ChunkReadOptions {
  /** Each chunk is taken from it; omit when the caller reserved memory for the whole transfer. */
  budget?: MemoryBudget;
  chunkSize?: number;
  inFlight?: number;
  /** Queue position for the budget (an ordered consumer lets its current ticket through). */
  ticket?: number;
}

/**
 * Yields the file's bytes in order as chunks of `chunkSize`, with up to `inFlight` chunks being
 * read at once. Each chunk's memory is taken from the budget before it is read and given back when
 * the consumer asks for the next one (or stops), so a consumer must be done with a chunk by then.
 */
export async function* readChunks(
  fh: ReadableFile,
  size: number,
  opts: ChunkReadOptions,
): AsyncGenerator<Buffer, void, undefined> {
  const chunkSize = opts.chunkSize ?? CHUNK_SIZE;
  const inFlight = Math.max(1, opts.inFlight ?? CHUNKS_IN_FLIGHT);
  const count = Math.ceil(size / chunkSize);
  const pending: Promise<Buffer>[] = [];
  let next = 0;
  let held = 0;
  const start = () => {
    const i = next++;
    const len = Math.min(chunkSize, size - i * chunkSize);
    const p = (opts.budget ? opts.budget.acquire(len, opts.ticket) : Promise.resolve()).then(async () => {
      held += len;
      const buf = Buffer.allocUnsafe(len);
      // One read call gets ~2 requests in flight on a network volume (kernel readahead), so a
      // chunk is read as several 1 MiB pieces at once.
      const pieces: Promise<void>[] = [];
      for (let off = 0; off < len; off += READ_PIECE) {
        const n = Math.min(READ_PIECE, len - off);
        pieces.push(readExactly(fh, buf.subarray(off, off + n), n, i * chunkSize + off));
      }
      await Promise.all(pieces);
      return buf;
    });
    // Errors surface when the chunk is awaited in order; don't let early ones go unhandled.
    p.catch(() => {});
    pending.push(p);
  };
  try {
    while (next < count && pending.length < inFlight) start();
    while (pending.length > 0) {
      const buf = await pending.shift()!;
      if (next < count) start();
      yield buf;
      // The consumer is done with this chunk once it asks for the next one.
      opts.budget?.release(buf.length);
      held -= buf.length;
    }
  } finally {
    // Give back everything: the last chunk, and chunks read ahead if the consumer stopped early.
    await Promise.allSettled(pending);
    if (held) opts.budget?.release(held);
  }
}
