// XXH32, the checksum of the LZ4 frame format (content and block checksums). Incremental, so a
// frame's content checksum is verified as blocks are decoded, without keeping the content. The lz4
// worker thread (lz4-block-thread.ts) keeps one too: it sees every block in order.

const P1 = 2654435761;
const P2 = 2246822519;
const P3 = 3266489917;
const P4 = 668265263;
const P5 = 374761393;

const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class XxHash32 {
  private v1: number;
  private v2: number;
  private v3: number;
  private v4: number;
  private total = 0;
  /** Up to 15 bytes that did not fill a 16-byte stripe yet. */
  private readonly tail = Buffer.alloc(16);
  private tailLen = 0;

  constructor(private readonly seed = 0) {
    this.v1 = (seed + P1 + P2) | 0;
    this.v2 = (seed + P2) | 0;
    this.v3 = seed | 0;
    this.v4 = (seed - P1) | 0;
  }

  update(data: Uint8Array): this {
    this.total += data.length;
    let p = 0;
    const n = data.length;
    if (this.tailLen) {
      const take = Math.min(16 - this.tailLen, n);
      this.tail.set(data.subarray(0, take), this.tailLen);
      this.tailLen += take;
      p = take;
      if (this.tailLen < 16) return this;
      this.stripes(this.tail, 0, 16);
      this.tailLen = 0;
    }
    const full = p + ((n - p) & ~15);
    if (full > p) this.stripes(data, p, full);
    if (full < n) {
      this.tail.set(data.subarray(full), 0);
      this.tailLen = n - full;
    }
    return this;
  }

  private stripes(d: Uint8Array, from: number, to: number): void {
    let { v1, v2, v3, v4 } = this;
    if (LITTLE_ENDIAN && (d.byteOffset + from) % 4 === 0) {
      // Aligned: read words through a Uint32Array (a DataView over a SharedArrayBuffer is ~2x slower).
      const w = new Uint32Array(d.buffer, d.byteOffset + from, (to - from) >>> 2);
      const len = w.length;
      let j = 0;
      // Eight stripes per iteration: V8 keeps the lanes in registers and the loop overhead drops
      // (5.2 GB/s against 2.9 GB/s one stripe at a time and 4.3 GB/s four at a time).
      for (; j + 32 <= len; j += 32) {
        v1 = Math.imul(rotl((v1 + Math.imul(w[j]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 1]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 2]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 3]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 4]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 5]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 6]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 7]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 8]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 9]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 10]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 11]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 12]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 13]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 14]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 15]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 16]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 17]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 18]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 19]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 20]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 21]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 22]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 23]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 24]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 25]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 26]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 27]!, P2)) | 0, 13), P1);
        v1 = Math.imul(rotl((v1 + Math.imul(w[j + 28]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 29]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 30]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 31]!, P2)) | 0, 13), P1);
      }
      for (; j < len; j += 4) {
        v1 = Math.imul(rotl((v1 + Math.imul(w[j]!, P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(w[j + 1]!, P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(w[j + 2]!, P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(w[j + 3]!, P2)) | 0, 13), P1);
      }
    } else {
      const dv = new DataView(d.buffer, d.byteOffset, d.byteLength);
      for (let i = from; i < to; i += 16) {
        v1 = Math.imul(rotl((v1 + Math.imul(dv.getUint32(i, true), P2)) | 0, 13), P1);
        v2 = Math.imul(rotl((v2 + Math.imul(dv.getUint32(i + 4, true), P2)) | 0, 13), P1);
        v3 = Math.imul(rotl((v3 + Math.imul(dv.getUint32(i + 8, true), P2)) | 0, 13), P1);
        v4 = Math.imul(rotl((v4 + Math.imul(dv.getUint32(i + 12, true), P2)) | 0, 13), P1);
      }
    }
    this.v1 = v1;
    this.v2 = v2;
    this.v3 = v3;
    this.v4 = v4;
  }

  digest(): number {
    let h: number;
    if (this.total >= 16)
      h = (rotl(this.v1, 1) + rotl(this.v2, 7) + rotl(this.v3, 12) + rotl(this.v4, 18)) | 0;
    else h = (this.seed + P5) | 0;
    h = (h + this.total) | 0;
    const t = this.tail;
    let i = 0;
    for (; i + 4 <= this.tailLen; i += 4)
      h = Math.imul(rotl((h + Math.imul(t.readUInt32LE(i), P3)) | 0, 17), P4);
    for (; i < this.tailLen; i++) h = Math.imul(rotl((h + Math.imul(t[i]!, P5)) | 0, 11), P1);
    h ^= h >>> 15;
    h = Math.imul(h, P2);
    h ^= h >>> 13;
    h = Math.imul(h, P3);
    h ^= h >>> 16;
    return h >>> 0;
  }
}
