// Packs an algorithm's code directory as a .tar.gz in memory for `sluice algorithm apply --endpoint`
// (the upload): regular files, directories and symlinks, names relative to the directory, modes
// kept, in sorted order (the same tree gives the same bytes, so an unchanged upload makes no new
// version). Names longer than ustar holds go in pax headers.
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BLOCK = 512;

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(name: string, type: string, size: number, mode: number, linkname = ''): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime 0: the bytes depend on the content only
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write(linkname, 157, 100, 'utf8');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer[] {
  const rest = data.length % BLOCK;
  return rest ? [data, Buffer.alloc(BLOCK - rest)] : [data];
}

/** A pax extended header for a name or link target ustar cannot hold. */
function pax(records: Record<string, string>): Buffer[] {
  let text = '';
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let len = Buffer.byteLength(body) + 1;
    while (Buffer.byteLength(`${len}${body}`) !== len) len = Buffer.byteLength(`${len}${body}`);
    text += `${len}${body}`;
  }
  const data = Buffer.from(text, 'utf8');
  return [header('PaxHeader', 'x', data.length, 0o644), ...padded(data)];
}

function entry(name: string, type: string, size: number, mode: number, linkname = ''): Buffer[] {
  const long: Record<string, string> = {};
  if (Buffer.byteLength(name) > 100) long.path = name;
  if (Buffer.byteLength(linkname) > 100) long.linkpath = linkname;
  const out = Object.keys(long).length ? pax(long) : [];
  out.push(header(name.slice(0, 100), type, size, mode, linkname.slice(0, 100)));
  return out;
}

/** The directory `root` as .tar.gz bytes. */
export async function packDirectory(root: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const path = join(dir, name);
      const rel = prefix ? `${prefix}/${name}` : name;
      const st = await lstat(path);
      if (st.isDirectory()) {
        parts.push(...entry(`${rel}/`, '5', 0, st.mode));
        await walk(path, rel);
      } else if (st.isSymbolicLink()) {
        parts.push(...entry(rel, '2', 0, 0o777, await readlink(path)));
      } else if (st.isFile()) {
        const data = await readFile(path);
        parts.push(...entry(rel, '0', data.length, st.mode), ...padded(data));
      }
      // Sockets, fifos and devices are not code: left out.
    }
  };
  await walk(root, '');
  parts.push(Buffer.alloc(BLOCK * 2));
  return gzipSync(Buffer.concat(parts));
}
