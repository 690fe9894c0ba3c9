// Safe extraction of a code archive (.tar.gz / .tgz / .tar) into a directory. Only what a code
// directory needs: files, directories, symlinks and hard links that stay inside the target.
// Absolute paths and `..` are rejected, nothing is written through a symlink (links are created
// last), device files and fifos are refused, setuid/setgid bits are stripped.
import { createReadStream } from 'node:fs';
import { copyFile, lstat, mkdir, open, readlink, realpath, symlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createGunzip } from 'node:zlib';
import { ValidationError } from '../errors.ts';

const BLOCK = 512;

class ExactReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** Exactly `n` bytes, or undefined at a clean end of stream. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.buf.length < n) {
      const next = await this.source.next();
      if (next.done) {
        if (this.buf.length === 0) return undefined;
        throw new ValidationError('code archive is truncated', 'codePath');
      }
      this.buf = this.buf.length ? Buffer.concat([this.buf, next.value]) : next.value;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  if ((block[start]! & 0x80) !== 0) {
    // GNU base-256 for large values.
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const text = field(block, start, length).trim();
  return text ? Number.parseInt(text, 8) : 0;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) break;
    const len = Number.parseInt(data.subarray(at, space).toString('ascii'), 10);
    if (!(len > 0)) break;
    const record = data.subarray(space + 1, at + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    at += len;
  }
  return out;
}

function safeTarget(root: string, name: string): string | undefined {
  const clean = name.replace(/^\.\/+/, '').replace(/\/+$/, '');
  if (clean === '' || clean === '.') return undefined;
  if (isAbsolute(clean) || clean.split('/').includes('..')) {
    throw new ValidationError(`code archive entry '${name}' points outside the archive`, 'codePath');
  }
  return join(root, clean);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** Extracts `archive` into the existing, empty directory `root`. */
/**
 * Where `path` leads once every symlink on the way is followed, as far as anything exists; the
 * missing rest is joined as written (a write would create it there). Too many hops is an error.
 */
async function resolveChain(path: string): Promise<string> {
  const todo = path.split('/').filter(Boolean);
  let cur = '/';
  for (let hops = 0; todo.length > 0; ) {
    const c = todo.shift()!;
    if (c === '.') continue;
    if (c === '..') {
      cur = dirname(cur);
      continue;
    }
    const next = join(cur, c);
    const st = await lstat(next).catch(() => undefined);
    if (!st) return resolve(next, ...todo);
    if (!st.isSymbolicLink()) {
      cur = next;
      continue;
    }
    if (++hops > 40)
      throw new ValidationError(`code archive symlink '${path}' has too many levels`, 'codePath');
    const link = await readlink(next);
    todo.unshift(...link.split('/').filter(Boolean));
    if (isAbsolute(link)) cur = '/';
  }
  return cur;
}

/** Bounds on what an archive may expand to (an uploaded archive: a small gzip can hold terabytes). */
export interface ExtractLimits {
  /** Bytes of file content in all. */
  maxBytes?: number;
  /** Entries of any kind. */
  maxEntries?: number;
}

export async function extractCodeArchive(
  archive: string,
  root: string,
  limits: ExtractLimits = {},
): Promise<void> {
  const maxBytes = limits.maxBytes ?? Number.POSITIVE_INFINITY;
  const maxEntries = limits.maxEntries ?? Number.POSITIVE_INFINITY;
  let written = 0;
  let entries = 0;
  const count = (bytes: number) => {
    written += bytes;
    if (written > maxBytes) {
      throw new ValidationError(
        `code archive expands to more than ${Math.round(maxBytes / 1024 / 1024)} MiB`,
        'codePath',
      );
    }
  };
  const magic = Buffer.alloc(2);
  const fh = await open(archive, 'r');
  await fh.read(magic, 0, 2, 0).finally(() => fh.close());
  const gz = magic[0] === 0x1f && magic[1] === 0x8b;
  const raw = createReadStream(archive);
  const reader = new ExactReader((gz ? raw.pipe(createGunzip()) : raw)[Symbol.asyncIterator]());
  const links: { target: string; linkname: string; hard: boolean }[] = [];
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  try {
    for (;;) {
      const header = await reader.read(BLOCK);
      if (!header || header.every((b) => b === 0)) break;
      const size = octal(header, 124, 12);
      const type = String.fromCharCode(header[156]!);
      const prefix = field(header, 345, 155);
      const baseName = field(header, 0, 100);
      const name = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
      const linkname = pax.linkpath ?? longLink ?? field(header, 157, 100);
      const padded = Math.ceil(size / BLOCK) * BLOCK;
      if (type === 'x' || type === 'g' || type === 'L' || type === 'K') {
        const data = (await reader.read(padded))?.subarray(0, size) ?? Buffer.alloc(0);
        if (type === 'x') pax = parsePax(data);
        else if (type === 'L') longName = field(data, 0, data.length);
        else if (type === 'K') longLink = field(data, 0, data.length);
        continue;
      }
      pax = {};
      longName = undefined;
      longLink = undefined;
      if (++entries > maxEntries) {
        throw new ValidationError(`code archive has more than ${maxEntries} entries`, 'codePath');
      }
      if (type !== '5' && type !== '2' && type !== '1') count(size);
      const target = safeTarget(root, name);
      if (type === '0' || type === '\0' || type === '7') {
        if (!target) throw new ValidationError(`code archive has a file with no name`, 'codePath');
        await mkdir(dirname(target), { recursive: true });
        const mode = (octal(header, 100, 8) & 0o777) | 0o600;
        const file = await open(target, 'wx', mode);
        try {
          let left = size;
          while (left > 0) {
            const chunk = await reader.read(Math.min(left, 1 << 16));
            if (!chunk) throw new ValidationError('code archive is truncated', 'codePath');
            await file.write(chunk);
            left -= chunk.length;
          }
        } finally {
          await file.close();
        }
        if (padded > size) await reader.read(padded - size);
      } else if (type === '5') {
        if (target) await mkdir(target, { recursive: true });
      } else if (type === '2' || type === '1') {
        if (!target) continue;
        links.push({ target, linkname, hard: type === '1' });
      } else {
        throw new ValidationError(`code archive entry '${name}' has unsupported type '${type}'`, 'codePath');
      }
    }
    // Links last, so no entry of the archive is ever written through one: hard links (copies)
    // first, while only real directories exist, then symlinks, after which nothing is written.
    for (const { target, linkname, hard } of links) {
      if (!hard) continue;
      const source = safeTarget(root, linkname);
      if (!source) throw new ValidationError(`code archive hard link '${target}' has no target`, 'codePath');
      // A hard link is a copy here: it counts against the bound as much as its target.
      count((await lstat(source)).size);
      await mkdir(dirname(target), { recursive: true });
      await copyFile(source, target);
    }
    for (const { target, linkname, hard } of links) {
      if (hard) continue;
      await mkdir(dirname(target), { recursive: true });
      const resolved = resolve(dirname(target), linkname);
      if (isAbsolute(linkname) || !inside(root, resolved)) {
        throw new ValidationError(
          `code archive symlink '${relative(root, target)}' points outside the archive`,
          'codePath',
        );
      }
      await symlink(linkname, target);
    }
    // A symlinked directory created above could make a later link escape: check the real paths.
    const realRoot = await realpath(root);
    for (const { target, hard } of links) {
      if (hard) continue;
      // Followed hop by hop, so a dangling chain (x -> . and y -> x/../gone) is judged by where a
      // write through it would land, not accepted because realpath() cannot finish.
      const real = await resolveChain(target);
      if (!inside(realRoot, real)) {
        throw new ValidationError(
          `code archive symlink '${relative(root, target)}' points outside the archive`,
          'codePath',
        );
      }
    }
  } finally {
    raw.destroy();
  }
}
