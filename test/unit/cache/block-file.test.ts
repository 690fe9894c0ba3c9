import { randomBytes } from 'node:crypto';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  crc32,
  decodeHeader,
  encodeHeader,
  tableCrc32,
  verifyBlockFile,
} from '../../../shared/cache/block-file.ts';

const dir = await mkdtemp(join(tmpdir(), 'sluice-block-file-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

async function blockFile(
  name: string,
  data: Buffer,
  header = { crc: crc32(data), length: data.length, block: 3 },
) {
  const path = join(dir, name);
  await writeFile(path, Buffer.concat([encodeHeader(header), data]));
  return path;
}

async function verify(path: string, block: number, length: number) {
  const fh = await open(path, 'r');
  try {
    return await verifyBlockFile(fh, block, length);
  } finally {
    await fh.close();
  }
}

describe('block files', () => {
  it('round-trips the header', () => {
    const h = { crc: 0xdeadbeef, length: 8 * 1024 * 1024, block: 123456 };
    expect(decodeHeader(encodeHeader(h))).toEqual(h);
    expect(decodeHeader(Buffer.alloc(32))).toBeUndefined();
  });

  it('the fallback CRC-32 agrees with zlib', () => {
    const data = randomBytes(10_000);
    expect(tableCrc32(data)).toBe(crc32(data));
    expect(tableCrc32(data.subarray(5000), tableCrc32(data.subarray(0, 5000)))).toBe(crc32(data));
    if ((zlib as { crc32?: unknown }).crc32) expect(crc32(Buffer.from('hello'))).toBe(0x3610a686);
  });

  it('accepts an intact block and refuses a damaged, truncated or misplaced one', async () => {
    const data = randomBytes(200_000);
    expect(await verify(await blockFile('ok', data), 3, data.length)).toBe(true);
    const flipped = Buffer.from(data);
    flipped[150_000] = flipped[150_000]! ^ 1;
    expect(
      await verify(
        await blockFile('flip', flipped, { crc: crc32(data), length: data.length, block: 3 }),
        3,
        data.length,
      ),
    ).toBe(false);
    const path = await blockFile('short', data);
    await (await open(path, 'r+')).truncate(100_000).then(() => {});
    expect(await verify(path, 3, data.length)).toBe(false);
    expect(await verify(await blockFile('other', data), 4, data.length)).toBe(false);
  });
});
