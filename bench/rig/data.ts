// The data the IO benchmarks move, generated deterministically (the same bytes on every machine,
// so figures from two machines compare): AES-256-CTR keystreams under a fixed key, one nonce per
// file. A stamp file records what was made, so a kept SLUICE_BENCH_DIR is not regenerated.
import { createCipheriv, createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

const KEY = createHash('sha256').update('sluice benchmark data').digest();

/** `size` incompressible bytes, a pure function of `name`. */
export function pseudoRandomBytes(name: string, size: number): Buffer {
  const iv = createHash('md5').update(name).digest();
  return createCipheriv('aes-256-ctr', KEY, iv).update(Buffer.alloc(size));
}

/** Runs `make` unless `dir` was already made with the same description. */
function once(dir: string, description: string, make: () => void): void {
  const stamp = `${dir}.made`;
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === description && existsSync(dir)) return;
  rmSync(dir, { recursive: true, force: true });
  rmSync(stamp, { force: true });
  make();
  writeFileSync(stamp, description);
}

export interface SmallFiles {
  files: number;
  kib: number;
  dirs: number;
}

/** `files` files of `kib` KiB spread over `dirs` directories d000, d001, ... (f00000.bin, ...). */
export function makeSmallFiles(dir: string, o: SmallFiles): void {
  once(dir, JSON.stringify(o), () => {
    for (let d = 0; d < o.dirs; d++)
      mkdirSync(join(dir, `d${String(d).padStart(3, '0')}`), { recursive: true });
    for (let i = 0; i < o.files; i++) {
      const name = `d${String(i % o.dirs).padStart(3, '0')}/f${String(i).padStart(5, '0')}.bin`;
      writeFileSync(join(dir, name), pseudoRandomBytes(name, o.kib * 1024));
    }
  });
}

/** One file of `mib` MiB, written in 8 MiB pieces. */
export function makeBigFile(path: string, mib: number): void {
  once(path, `${mib} MiB`, () => {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(path, 'w');
    try {
      for (let i = 0; i < mib; i += 8)
        writeSync(fd, pseudoRandomBytes(`big${i}`, Math.min(8, mib - i) << 20));
    } finally {
      closeSync(fd);
    }
  });
}

// A made-up software tree for the archive benchmarks: like a /usr, mostly small files (headers,
// scripts, docs) with some large ones (libraries), text that compresses about 2-3x and binaries
// that do not, nested directories, and relative symlinks.
const WORDS = Array.from({ length: 256 }, (_, i) => {
  const b = pseudoRandomBytes(`word${i}`, 12);
  const len = 2 + (b[0]! % 9);
  let w = '';
  for (let k = 1; k <= len; k++) w += String.fromCharCode(97 + (b[k]! % 26));
  return Buffer.from(i % 13 === 0 ? `${w}\n` : `${w} `);
});

function textBytes(name: string, size: number): Buffer {
  const pick = pseudoRandomBytes(name, Math.ceil(size / 2) * 2 + 2);
  const out = Buffer.allocUnsafe(size + 16);
  let at = 0;
  for (let k = 0; at < size; k += 2) at += WORDS[pick.readUInt16LE(k) % WORDS.length]!.copy(out, at);
  return out.subarray(0, size);
}

/** Text with one 4 KiB block in `binaryShare` incompressible: what a library or an image holds. */
function mixedBytes(name: string, size: number, binaryShare: number): Buffer {
  if (binaryShare <= 0) return textBytes(name, size);
  const out = textBytes(name, size);
  const dice = pseudoRandomBytes(`${name} blocks`, Math.ceil(size / 4096));
  const noise = pseudoRandomBytes(name, size);
  for (let b = 0; b * 4096 < size; b++)
    if (dice[b]! < binaryShare * 256) noise.copy(out, b * 4096, b * 4096, Math.min(size, (b + 1) * 4096));
  return out;
}

/** A tree of about `mib` MiB under `dir`. */
export function makeSoftwareTree(dir: string, mib: number): void {
  once(dir, `software tree ${mib} MiB v3`, () => {
    const target = mib << 20;
    let bytes = 0;
    let n = 0;
    const dice = pseudoRandomBytes('tree dice', 16 * 1024 * 1024);
    let cursor = 0;
    const roll = () => {
      const v = dice.readUInt32LE(cursor);
      cursor = (cursor + 4) % (dice.length - 4);
      return v / 0x1_0000_0000;
    };
    while (bytes < target) {
      const dirName = join(
        ['lib', 'share', 'include', 'bin'][n % 4]!,
        `pkg${String(Math.floor(n / 40)).padStart(4, '0')}`,
        n % 3 ? 'sub' : '',
      );
      mkdirSync(join(dir, dirName), { recursive: true });
      const r = roll();
      // 90% under 32 KiB, 9.7% up to 512 KiB, 0.3% of 1-8 MiB: about /usr's mix (~20 files per MiB).
      const size = Math.floor(
        r < 0.9 ? 200 + roll() * 32_000 : r < 0.997 ? 32_000 + roll() * 480_000 : 1e6 + roll() * 7e6,
      );
      const name = join(dirName, `file${n}${r < 0.997 ? '.txt' : '.so'}`);
      // Large files are libraries (a third incompressible), one small file in ten is a binary.
      const share = r >= 0.997 ? 0.35 : roll() < 0.1 ? 1 : 0;
      writeFileSync(
        join(dir, name),
        share === 1 ? pseudoRandomBytes(name, size) : mixedBytes(name, size, share),
      );
      if (n % 50 === 7) symlinkSync(`file${n}${r < 0.997 ? '.txt' : '.so'}`, join(dir, dirName, `link${n}`));
      bytes += size + 512;
      n++;
    }
  });
}
