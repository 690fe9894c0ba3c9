// TarParser on archives written by GNU tar (gnu, pax, ustar, v7), fed in awkward chunk sizes, and
// on damaged input.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNumber } from '../../../../shared/io/fetch/tar/header.ts';
import { type TarEntry, TarParser } from '../../../../shared/io/fetch/tar/parser.ts';

let work: string;
const longName = `${'x'.repeat(90)}/${'y'.repeat(120)}/${'z'.repeat(80)}.txt`;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'sluice-tar-parser-'));
  await mkdir(path.join(work, 'src', path.dirname(longName)), { recursive: true });
  await writeFile(path.join(work, 'src', longName), 'deep\n');
  await writeFile(path.join(work, 'src', 'b.txt'), 'b'.repeat(1000));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

function parse(
  archive: Buffer,
  chunk: number,
): { entries: TarEntry[]; bodies: Map<string, string>; parser: TarParser } {
  const parser = new TarParser();
  const entries: TarEntry[] = [];
  const bodies = new Map<string, string>();
  let current = '';
  for (let i = 0; i < archive.length; i += chunk) {
    for (const ev of parser.write(archive.subarray(i, i + chunk))) {
      if (ev.kind === 'entry') {
        entries.push(ev.entry);
        current = ev.entry.path;
        bodies.set(current, '');
      } else if (ev.kind === 'data') bodies.set(current, bodies.get(current) + ev.data.toString());
    }
  }
  parser.end();
  return { entries, bodies, parser };
}

async function tarOf(format: string, files: string[]): Promise<Buffer> {
  const out = path.join(work, `${format}.tar`);
  execFileSync('tar', ['-c', `--format=${format}`, '-f', out, '-C', path.join(work, 'src'), ...files]);
  return readFile(out);
}

describe('TarParser', () => {
  for (const format of ['gnu', 'pax', 'oldgnu']) {
    for (const chunk of [1, 511, 513, 100_000]) {
      it(`${format} archive with a ${longName.length}-byte name, fed ${chunk} bytes at a time`, async () => {
        const { entries, bodies, parser } = parse(await tarOf(format, [longName, 'b.txt']), chunk);
        expect(parser.finished).toBe(true);
        expect(entries.map((e) => e.path)).toEqual([longName, 'b.txt']);
        expect(bodies.get(longName)).toBe('deep\n');
        expect(bodies.get('b.txt')).toBe('b'.repeat(1000));
      });
    }
  }

  it('ustar names use the 155-byte prefix field', async () => {
    const name = `${'p'.repeat(120)}/short.txt`;
    await mkdir(path.join(work, 'src', 'p'.repeat(120)), { recursive: true });
    await writeFile(path.join(work, 'src', name), 'u');
    const { entries } = parse(await tarOf('ustar', [name]), 4096);
    expect(entries[0]?.path).toBe(name);
  });

  it('rejects a header with a bad checksum', async () => {
    const a = Buffer.from(await tarOf('gnu', ['b.txt']));
    a[10] = 0x41;
    expect(() => parse(a, 512)).toThrow(/not a valid tar header at byte 0 \(checksum mismatch\)/);
  });

  it('reports a truncated archive (inside an entry, or missing the end marker)', async () => {
    const a = await tarOf('gnu', ['b.txt']);
    expect(() => parse(a.subarray(0, 700), 512)).toThrow(/truncated at byte 700 \(inside an entry\)/);
    expect(() => parse(a.subarray(0, 1536), 512)).toThrow(/without the end-of-archive marker/);
  });

  it('reads GNU base-256 numbers (sizes over 8 GiB)', () => {
    const field = Buffer.alloc(12);
    field[0] = 0x80;
    field.writeUIntBE(10 * 1024 ** 3, 6, 6);
    expect(readNumber(field, 0, 12, 'size', 0)).toBe(10 * 1024 ** 3);
  });
});
