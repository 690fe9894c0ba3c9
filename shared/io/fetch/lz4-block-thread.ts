// The worker-thread side of Lz4BlockWorker: decodes one LZ4 block per message from a shared input
// buffer into a shared output block (nothing copied between threads, nothing allocated per block
// but lz4-napi's own output), and keeps the frame's running content checksum: it sees every block
// in order. lz4-napi's output (mimalloc) is allocated and freed on this thread: the RSS stays flat.
import { parentPort } from 'node:worker_threads';
import { uncompressSync } from 'lz4-napi';
import { XxHash32 } from './xxhash32.ts';

/** Main thread -> worker. Replies come back in request order. */
export type Lz4BlockRequest =
  | {
      op: 'block';
      /** The compressed block, with its 4-byte size prefix at `offset`, `length` bytes in all. */
      input: SharedArrayBuffer;
      offset: number;
      length: number;
      /** Where the decoded block goes (the frame's block size). */
      out: SharedArrayBuffer;
      /** The block is stored uncompressed: copy it. */
      stored: boolean;
      /** Add the decoded bytes to the running content checksum. */
      hash: boolean;
    }
  /** The checksum of the blocks hashed since the last digest; resets it. */
  | { op: 'digest' };

export type Lz4BlockReply = { ok: true; length: number; digest?: number } | { ok: false; message: string };

// gc() exists when the main thread set --expose-gc before starting this worker (see Lz4BlockWorker).
const gc = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;

function decode(m: Extract<Lz4BlockRequest, { op: 'block' }>, hash: XxHash32): number {
  const out = new Uint8Array(m.out);
  let n: number;
  if (m.stored) {
    const input = new Uint8Array(m.input, m.offset + 4, m.length - 4);
    out.set(input);
    n = input.length;
  } else {
    const decoded = uncompressSync(new Uint8Array(m.input, m.offset, m.length));
    if (decoded.length > out.length) throw new Error('a block decodes to more than the frame block size');
    out.set(decoded);
    n = decoded.length;
  }
  if (m.hash) hash.update(out.subarray(0, n));
  return n;
}

const port = parentPort;
if (!port) throw new Error('lz4-block-thread runs as a worker thread (see Lz4BlockWorker)');
let hash = new XxHash32();
port.on('message', (m: Lz4BlockRequest) => {
  let reply: Lz4BlockReply;
  try {
    if (m.op === 'digest') {
      reply = { ok: true, length: 0, digest: hash.digest() };
      hash = new XxHash32();
    } else reply = { ok: true, length: decode(m, hash) };
  } catch (err) {
    reply = { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
  // Each output is garbage once copied: a minor GC on this tiny heap (~0.1 ms) frees it before the
  // next block is allocated, so the allocator hands back the same, already mapped memory.
  if (m.op === 'block') gc?.({ type: 'minor' });
});
