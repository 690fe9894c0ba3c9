// The LZ4 frame decoder against the `lz4` CLI's own output, in every frame flavour it writes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeLz4 } from '../../../../shared/io/fetch/lz4-frame-decoder.ts';
import { XxHash32 } from '../../../../shared/io/fetch/xxhash32.ts';

const lz4 = (data: Buffer, flags: string[]) =>
  execFileSync('lz4', ['-q', '-c', ...flags], { input: data, maxBuffer: 1 << 28 });

/** Compressible but not trivial: text-like runs mixed with random bytes. */
function sample(n: number): Buffer {
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const p =
      len % 3 === 0
        ? randomBytes(1000)
        : Buffer.from(`line ${len} of the sample, repeated words words words\n`.repeat(40));
    parts.push(p);
    len += p.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}

async function decode(frame: Buffer, piece = 7919): Promise<Buffer> {
  async function* pieces() {
    for (let i = 0; i < frame.length; i += piece) yield frame.subarray(i, i + piece);
  }
  const out: Buffer[] = [];
  for await (const b of decodeLz4(pieces())) out.push(Buffer.from(b));
  return Buffer.concat(out);
}

describe('LZ4 frame decoder', () => {
  const data = sample(5 * 1024 * 1024 + 333);
  for (const [what, flags] of [
    ['default (4 MiB independent blocks, content checksum)', []],
    ['linked blocks (-BD)', ['-BD']],
    ['64 KiB linked blocks (-B4 -BD)', ['-B4', '-BD']],
    ['block checksums and content size (-BX --content-size)', ['-BX', '--content-size']],
    ['no content checksum (--no-frame-crc)', ['--no-frame-crc']],
    ['level 9', ['-9']],
  ] as const) {
    it(`decodes ${what}`, async () => {
      const out = await decode(lz4(data, [...flags]));
      expect(out.equals(data)).toBe(true);
    });
  }

  it('decodes a stream whose pieces start at every offset modulo 8 (blocks are placed to match)', async () => {
    const frame = lz4(data, []);
    for (let shift = 0; shift < 8; shift++) {
      const backing = Buffer.alloc(frame.length + shift);
      frame.copy(backing, shift);
      const out: Buffer[] = [];
      async function* pieces() {
        // 64 KiB pieces like a socket's, the first one cut short by `shift`.
        for (let i = shift; i < backing.length; i += 65536) yield backing.subarray(i, i + 65536);
      }
      for await (const b of decodeLz4(pieces())) out.push(Buffer.from(b));
      expect(Buffer.concat(out).equals(data)).toBe(true);
    }
  });

  it('hands out a decoded block while the next ones are still arriving', async () => {
    // Six 64 KiB blocks (stored: random bytes), delivered 16 KiB every 40 ms, like a slow network.
    const raw = randomBytes(6 * 65536);
    const frame = lz4(raw, ['-B4']);
    let delivered = 0;
    async function* slow() {
      for (let i = 0; i < frame.length; i += 16384) {
        await new Promise((r) => setTimeout(r, 40));
        delivered = Math.min(frame.length, i + 16384);
        yield frame.subarray(i, i + 16384);
      }
    }
    const out: Buffer[] = [];
    let deliveredAtFirst = -1;
    for await (const b of decodeLz4(slow())) {
      if (deliveredAtFirst < 0) deliveredAtFirst = delivered;
      out.push(Buffer.from(b));
    }
    expect(Buffer.concat(out).equals(raw)).toBe(true);
    // Not only after three blocks were handed to the worker (its pipeline depth).
    expect(deliveredAtFirst).toBeLessThan(3 * 65536);
  });

  it('decodes concatenated frames and skips skippable frames', async () => {
    const a = sample(100_000);
    const b = sample(70_000);
    const skippable = Buffer.alloc(8 + 5);
    skippable.writeUInt32LE(0x184d2a53, 0);
    skippable.writeUInt32LE(5, 4);
    const out = await decode(Buffer.concat([lz4(a, []), skippable, lz4(b, [])]), 1000);
    expect(out.equals(Buffer.concat([a, b]))).toBe(true);
  });

  it('decodes incompressible data (stored blocks)', async () => {
    const r = randomBytes(300_000);
    expect((await decode(lz4(r, ['-B4']))).equals(r)).toBe(true);
  });

  it('reports a corrupt stream (content checksum) instead of returning garbage', async () => {
    const frame = Buffer.from(lz4(data, []));
    frame[frame.length - 4]! ^= 0xff; // the checksum itself
    await expect(decode(frame)).rejects.toThrow(/corrupt lz4 stream: content checksum mismatch/);
    const body = Buffer.from(lz4(data, []));
    body[5000]! ^= 0x55; // inside the first block
    await expect(decode(body)).rejects.toThrow(/corrupt lz4 stream/);
  });

  it('reports a truncated stream', async () => {
    const frame = lz4(data, []);
    await expect(decode(frame.subarray(0, frame.length - 1000))).rejects.toThrow(/lz4 stream is truncated/);
  });

  it('XXH32 matches the reference values', () => {
    expect(new XxHash32().update(Buffer.alloc(0)).digest()).toBe(0x02cc5d05);
    expect(new XxHash32().update(Buffer.from('abc')).digest()).toBe(0x32d153ff);
    const h = new XxHash32();
    const d = Buffer.from('Nobody inspects the spammish repetition');
    for (let i = 0; i < d.length; i += 5) h.update(d.subarray(i, i + 5));
    expect(h.digest()).toBe(0xe2293b2f);
  });

  it('XXH32 of a long input is the same in one piece and in odd, unaligned pieces', () => {
    const b = Buffer.alloc(100_000);
    for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 8)) & 255;
    // The reference: the content checksum `lz4 -c` (1.9.4) writes for these bytes.
    expect(new XxHash32().update(b).digest()).toBe(0x7ca203b3);
    const h = new XxHash32();
    let p = 0;
    for (const n of [1, 63, 64, 3, 1000, 4096, 7, 50_000]) {
      h.update(b.subarray(p, p + n));
      p += n;
    }
    expect(h.update(b.subarray(p)).digest()).toBe(0x7ca203b3);
  });
});
