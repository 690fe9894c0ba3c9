// The lz4 worker thread driven through its message protocol, started as Lz4BlockWorker starts it
// (from the TypeScript source here, through the source bootstrap): blocks decoded from and into shared
// memory, stored blocks, the running content checksum, and errors that leave it serving.
import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { compressSync } from 'lz4-napi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lz4BlockReply, Lz4BlockRequest } from '../../../../shared/io/fetch/lz4-block-thread.ts';
import { XxHash32 } from '../../../../shared/io/fetch/xxhash32.ts';
import { moduleBeside, startWorkerThread } from '../../../../shared/io/worker-thread.ts';

let worker: Worker;
const ask = (m: Lz4BlockRequest) =>
  new Promise<Lz4BlockReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.postMessage(m);
  });

/** `bytes` copied into a new SharedArrayBuffer at `offset`. */
function shared(bytes: Buffer, offset: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(offset + bytes.length + 8);
  bytes.copy(Buffer.from(sab), offset);
  return sab;
}

const text = Buffer.from('sluice '.repeat(20_000));

beforeAll(() => {
  worker = startWorkerThread(moduleBeside('../../../../shared/io/fetch/lz4-block-thread', import.meta.url));
});
afterAll(async () => {
  await worker.terminate();
});

describe('lz4-block-thread', () => {
  it('decodes a size-prefixed block from shared memory into the shared output block', async () => {
    const block = compressSync(text); // 4-byte size, then the LZ4 block
    const out = new SharedArrayBuffer(256 * 1024);
    const reply = await ask({
      op: 'block',
      input: shared(block, 5),
      offset: 5,
      length: block.length,
      out,
      stored: false,
      hash: true,
    });
    expect(reply).toEqual({ ok: true, length: text.length });
    expect(Buffer.from(out, 0, text.length).equals(text)).toBe(true);
  });

  it('copies a stored block and keeps one checksum over the hashed blocks, reset by digest', async () => {
    await ask({ op: 'digest' }); // starts the checksum afresh
    const raw = randomBytes(1000);
    const prefixed = Buffer.concat([Buffer.alloc(4), raw]);
    const out = new SharedArrayBuffer(4096);
    const input = shared(prefixed, 0);
    const reply = await ask({
      op: 'block',
      input,
      offset: 0,
      length: prefixed.length,
      out,
      stored: true,
      hash: true,
    });
    expect(reply).toEqual({ ok: true, length: 1000 });
    expect(Buffer.from(out, 0, 1000).equals(raw)).toBe(true);
    // Not hashed: left out of the checksum.
    await ask({ op: 'block', input, offset: 0, length: prefixed.length, out, stored: true, hash: false });
    expect(await ask({ op: 'digest' })).toEqual({
      ok: true,
      length: 0,
      digest: new XxHash32().update(raw).digest(),
    });
    expect(await ask({ op: 'digest' })).toEqual({ ok: true, length: 0, digest: new XxHash32().digest() });
  });

  it('answers a corrupt or oversized block with an error, then goes on serving', async () => {
    const garbage = Buffer.concat([Buffer.from([0xff, 0xff, 0, 0]), randomBytes(64)]);
    const out = new SharedArrayBuffer(1024);
    const bad = await ask({
      op: 'block',
      input: shared(garbage, 0),
      offset: 0,
      length: 68,
      out,
      stored: false,
      hash: false,
    });
    expect(bad).toMatchObject({ ok: false, message: expect.any(String) });
    const block = compressSync(text);
    const small = new SharedArrayBuffer(1024); // text is 140 kB
    const over = await ask({
      op: 'block',
      input: shared(block, 0),
      offset: 0,
      length: block.length,
      out: small,
      stored: false,
      hash: false,
    });
    expect(over).toEqual({ ok: false, message: 'a block decodes to more than the frame block size' });
    const good = await ask({
      op: 'block',
      input: shared(block, 0),
      offset: 0,
      length: block.length,
      out: new SharedArrayBuffer(256 * 1024),
      stored: false,
      hash: false,
    });
    expect(good).toEqual({ ok: true, length: text.length });
  });
});
