// Streaming decoder of the LZ4 frame format (what the `lz4` CLI writes). lz4-napi only decodes a
// whole frame at once, so the frame is parsed here and each block goes to lz4-napi's block decoder
// (Rust, ~600 MB/s); linked blocks get the previous 64 KiB as dictionary. Checksums (content,
// block) are verified: a corrupt stream is an error, never silent garbage.
// Independent blocks (the CLI's default) decode on a worker thread, a few in flight, so the main
// thread only parses tar and writes; linked blocks decode here, in order. (lz4-napi's async API
// was measured and dropped: its outputs, allocated by mimalloc on thread-pool threads and freed by
// the main thread's GC, were kept by mimalloc: +150 MB RSS on a 300 MB archive.)
import { BlockRecycler } from './block-recycler.ts';
import { ByteReader } from './byte-reader.ts';
import { ArchiveError } from './errors.ts';
import { Lz4BlockWorker } from './lz4-block-worker.ts';
import { XxHash32 } from './xxhash32.ts';

const FRAME_MAGIC = 0x184d2204;
const LEGACY_MAGIC = 0x184c2102;
const BLOCK_MAX: Record<number, number> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 };

function corrupt(detail: string, cause?: unknown): ArchiveError {
  return new ArchiveError(`corrupt lz4 stream: ${detail}`, 'CORRUPT_LZ4', cause ? { cause } : undefined);
}

// lz4-napi is a native module, loaded on first use: bundles that merely contain this file (the
// Lambda functions, which never decode lz4) must not import it at start. The main thread needs it
// only for linked blocks: the worker loads its own copy, and loading it here first (~35 ms)
// delayed the worker's start, and so the first decoded block.
let lz4: typeof import('lz4-napi') | undefined;
async function loadLz4(): Promise<typeof import('lz4-napi')> {
  lz4 ??= await import('lz4-napi');
  return lz4;
}

function decodeBlock(block: Buffer, dict: Buffer | undefined): Buffer {
  try {
    return (lz4 as typeof import('lz4-napi')).uncompressSync(block, dict);
  } catch (err) {
    throw corrupt(`a block does not decode (${(err as Error).message})`, err);
  }
}

/** Blocks handed to the worker ahead of the one being consumed. */
const IN_FLIGHT = 3;

export interface Lz4DecodeOptions {
  /** Decode independent blocks on a worker thread (default true). */
  worker?: boolean;
  /** Decoded 4 MiB blocks come from (and return to) this pool; the consumer holds what it keeps. */
  recycler?: BlockRecycler;
}

export async function* decodeLz4(
  input: AsyncIterable<Buffer>,
  opts: Lz4DecodeOptions = {},
): AsyncGenerator<Buffer> {
  const r = new ByteReader(input[Symbol.asyncIterator]());
  const worker =
    opts.worker === false ? undefined : new Lz4BlockWorker(opts.recycler ?? new BlockRecycler(4 << 20));
  try {
    yield* decodeFrames(r, worker);
  } finally {
    worker?.close();
  }
}

async function* decodeFrames(r: ByteReader, worker: Lz4BlockWorker | undefined): AsyncGenerator<Buffer> {
  let frames = 0;
  for (;;) {
    if (!(await r.fill(4))) {
      if (r.buffered) throw corrupt('trailing bytes after the last frame');
      if (frames === 0) throw corrupt('empty stream');
      return;
    }
    const magic = r.take(4).readUInt32LE(0);
    if ((magic & 0xfffffff0) === 0x184d2a50) {
      // Skippable frame: a length, then bytes nobody needs.
      if (!(await r.fill(4))) throw corrupt('truncated skippable frame');
      const n = r.take(4).readUInt32LE(0);
      if (!(await r.fill(n))) throw corrupt('truncated skippable frame');
      r.skip(n);
      continue;
    }
    if (magic === LEGACY_MAGIC) throw corrupt('the legacy lz4 format (lz4 -l) is not supported');
    if (magic !== FRAME_MAGIC) throw corrupt(`bad frame magic 0x${magic.toString(16)}`);
    frames++;
    yield* decodeFrame(r, worker);
  }
}

async function* decodeFrame(r: ByteReader, worker: Lz4BlockWorker | undefined): AsyncGenerator<Buffer> {
  if (!(await r.fill(2))) throw truncated();
  const fd = r.take(2);
  const flg = fd[0]!;
  const bd = fd[1]!;
  if (flg >> 6 !== 1) throw corrupt(`unsupported frame version ${flg >> 6}`);
  const independent = (flg & 0x20) !== 0;
  const blockChecksum = (flg & 0x10) !== 0;
  const hasSize = (flg & 0x08) !== 0;
  const contentChecksum = (flg & 0x04) !== 0;
  const hasDictId = (flg & 0x01) !== 0;
  const blockMax = BLOCK_MAX[(bd >> 4) & 7];
  if (!blockMax) throw corrupt('bad block size in frame descriptor');
  const rest = (hasSize ? 8 : 0) + (hasDictId ? 4 : 0) + 1;
  if (!(await r.fill(rest))) throw truncated();
  const desc = r.take(rest);
  const contentSize = hasSize ? Number(desc.readBigUInt64LE(0)) : undefined;
  if (hasDictId) throw corrupt('frames that need an external dictionary are not supported');
  // With the worker (independent blocks), it hashes every block it decodes, in order.
  const viaWorker = worker !== undefined && independent;
  const hash = contentChecksum && !viaWorker ? new XxHash32() : undefined;
  let produced = 0;
  let dict: Buffer | undefined;
  const scratch = Buffer.allocUnsafe(blockMax + 4);
  const inFlight: Promise<Buffer>[] = [];
  // A worker output goes back to the pool once the consumer is done with it (it resumes us).
  const recycler = worker?.recycler;
  function* pooled(out: Buffer) {
    recycler?.hold(out.buffer);
    yield out;
    recycler?.drop(out.buffer);
  }
  const emit = (out: Buffer) => {
    hash?.update(out);
    produced += out.length;
    return out;
  };
  /**
   * r.fill(n), but while the bytes are still on the network (not there after one turn of the
   * event loop), blocks the worker has finished go to the consumer, which would otherwise wait
   * for IN_FLIGHT blocks (at the start of a download: two blocks' download time, ~80 ms at
   * 50 MB/s). When the bytes are buffered, as in steady state, nothing changes.
   */
  async function* fill(n: number): AsyncGenerator<Buffer, boolean> {
    const ready = r.fill(n);
    if (!inFlight.length) return await ready;
    let arrived = false;
    const onArrival = () => {
      arrived = true;
      return 'data' as const;
    };
    const arrival = ready.then(onArrival, onArrival);
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (!arrived && inFlight.length) {
      const first = await Promise.race([
        arrival,
        inFlight[0]!.then(
          () => 'block' as const,
          () => 'block' as const,
        ),
      ]);
      if (first === 'data') break;
      yield* pooled(emit(await inFlight.shift()!));
    }
    return await ready;
  }
  for (;;) {
    if (!(yield* fill(4))) throw truncated();
    const word = r.take(4).readUInt32LE(0);
    if (word === 0) break; // EndMark
    const size = word & 0x7fffffff;
    const stored = (word & 0x80000000) !== 0;
    if (size > blockMax) throw corrupt(`block of ${size} bytes exceeds the frame's ${blockMax}`);
    if (!(yield* fill(size + (blockChecksum ? 4 : 0)))) throw truncated();
    // The block goes to the decoder with a 4-byte upper bound on its output in front (lz4-napi's
    // size-prepended block format); it truncates to the real size.
    const toWorker = worker !== undefined && independent;
    // The worker reads its block from shared memory; synchronous decoding reuses one scratch buffer.
    // Copies into shared memory run word by word only when source and target agree modulo 8
    // (V8's relaxed memmove; otherwise byte by byte, 3 GB/s instead of 15-25): the downloaded
    // buffers are aligned and sized in multiples of 8, so the block goes where its first byte
    // lines up with its source, and so do the buffers after it.
    const block = toWorker
      ? Buffer.from(worker.inputBuffer(size + 4), 4 + r.alignment, size + 4)
      : stored
        ? Buffer.allocUnsafe(size + 4)
        : scratch.subarray(0, size + 4);
    block.writeUInt32LE(blockMax, 0);
    r.copyTo(block, 4, size);
    if (blockChecksum) {
      const want = r.take(4).readUInt32LE(0);
      if (new XxHash32().update(block.subarray(4)).digest() !== want)
        throw corrupt('block checksum mismatch');
    }
    if (toWorker) {
      const job = worker.decode(
        block.buffer as SharedArrayBuffer,
        block.byteOffset,
        size + 4,
        blockMax,
        stored,
        contentChecksum,
      );
      job.catch(() => {}); // awaited in order below; this only avoids an "unhandled" report
      inFlight.push(job);
      if (inFlight.length >= IN_FLIGHT) yield* pooled(emit(await inFlight.shift()!));
      continue;
    }
    while (inFlight.length) yield* pooled(emit(await inFlight.shift()!));
    if (!stored) await loadLz4();
    const out = stored ? block.subarray(4) : decodeBlock(block, independent ? undefined : dict);
    // Linked blocks may refer back up to 64 KiB into what was decoded before.
    if (!independent)
      dict =
        out.length >= 65536
          ? out.subarray(out.length - 65536)
          : Buffer.concat([dict ?? Buffer.alloc(0), out]).subarray(-65536);
    yield emit(out);
  }
  while (inFlight.length) yield* pooled(emit(await inFlight.shift()!));
  if (contentChecksum) {
    if (!(await r.fill(4))) throw truncated();
    const want = r.take(4).readUInt32LE(0);
    const got = viaWorker ? await worker.digest() : hash!.digest();
    if (got !== want) throw corrupt('content checksum mismatch');
  }
  if (contentSize !== undefined && contentSize !== produced)
    throw corrupt(`frame says ${contentSize} bytes, decoded ${produced}`);
}

function truncated(): ArchiveError {
  return new ArchiveError('the lz4 stream is truncated (it ends in the middle of a frame)', 'TRUNCATED');
}
