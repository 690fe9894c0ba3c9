// `sluice zip OUT.zip INPUT...` and the `zip` algorithm: walks the inputs concurrently, reads many
// files at once (bounded by -j and the memory budget), and hands them to the ZipWriter strictly in
// entry order, so reads overlap while the output stays one sequential stream (local file or S3).
import { realpath } from 'node:fs/promises';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateRaw } from 'node:zlib';
import { ValidationError } from '../errors.ts';
import { BufferPool } from './buffer-pool.ts';
import {
  CHUNK_SIZE,
  DEFAULT_JOBS,
  DEFAULT_MAX_MEMORY,
  DIRECT_READ_AHEAD,
  WHOLE_FILE_MAX,
} from './constants.ts';
import { IoItemError } from './errors.ts';
import { IoTally } from './failures.ts';
import { readChunks, readExactly } from './file-read.ts';
import { chooseLocalFs, type LocalFile } from './local-fs.ts';
import { parseLocation } from './location.ts';
import { MemoryBudget } from './memory-budget.ts';
import { OrderedSlots } from './ordered-slots.ts';
import { poolFor } from './task-pool.ts';
import type { IoOptions, IoSummary } from './types.ts';
import {
  joinRel,
  ListedDirectories,
  type ListedDirectory,
  openListedFile,
  releaseAfter,
  walkLocalTree,
} from './walk.ts';
import type { ZipEntryMeta } from './zip-format.ts';
import { LocalZipSink, S3ZipSink, type ZipSink } from './zip-sink.ts';
import { METHOD_DEFLATE, METHOD_STORED, ZipWriter } from './zip-writer.ts';

const deflateRawAsync = promisify(deflateRaw);

export interface ZipOptions extends IoOptions {
  /** Deflate entries (default: stored, no compression). */
  deflate?: boolean;
  /** Entries in name order (deterministic output); otherwise in the order the walk finds them. */
  sort?: boolean;
  /** Names are relative to this directory (default: each input's parent). */
  root?: string;
  cwd?: string;
}

/** One entry, ready for the writer (or already failed and reported). */
export type Prepared =
  | {
      kind: 'buffered';
      meta: ZipEntryMeta;
      data: Buffer;
      crc: number;
      size: number;
      method: number;
      held: number;
      /** The read buffer, to give back to the pool once written. */
      pooled?: Buffer;
    }
  | { kind: 'streamed'; meta: ZipEntryMeta; fh: LocalFile; size: number; held: number; path: string }
  | { kind: 'directory'; meta: ZipEntryMeta }
  | { kind: 'failed' };

/** An entry found by the walk, before its data is read. */
interface Found {
  name: string;
  /** For messages (and the zip's own files). */
  path: string;
  kind: 'file' | 'symlink' | 'directory';
  stats?: ListedDirectory['stats'];
  /** A file or link in a walked directory, unsorted: where to read it (`${dir.at}/${name}`)... */
  at?: string;
  /** ...and what to call once it is read (the walk's directory fd is let go after the last one). */
  done?: () => void;
  /** Sorted (read after the whole walk): the directory it was listed in, to open again. */
  listedIn?: { path: string; stats: ListedDirectory['stats']; entry: string };
}

/** The zip name of `path` relative to `base`, '/'-separated; refuses names that leave `base`. */
export function entryName(base: string, path: string): string {
  const rel = relative(base, path).split(sep).join('/');
  if (rel.startsWith('../') || rel === '..' || rel.startsWith('/'))
    throw new ValidationError(`${path} is not inside --root ${base}`, 'root');
  return rel;
}

/**
 * The zip's own paths (its temp file, its final name) as the walk of `inputs` would name them:
 * compared by real path, so `zip alias/out.zip in` (alias -> in) does not pack its own temp file.
 * The walk follows no symlink below an input, so an input's own real path is all it takes.
 */
async function ownPathsAsWalked(own: string[], inputs: string[]): Promise<Set<string>> {
  const skip = new Set(own);
  const real = async (p: string) => realpath(p).catch(() => undefined);
  const ownReal = (
    await Promise.all(own.map(async (p) => ((await real(dirname(p))) ?? '') + sep + basename(p)))
  ).filter((p) => !p.startsWith(sep + sep));
  for (const input of inputs) {
    const r = await real(input);
    if (!r) continue;
    for (const o of ownReal) if (o.startsWith(r + sep)) skip.add(input + o.slice(r.length));
  }
  return skip;
}

export async function zipTree(output: string, inputs: string[], opts: ZipOptions = {}): Promise<IoSummary> {
  if (inputs.length === 0) throw new ValidationError('zip needs at least one input', 'inputs');
  const cwd = opts.cwd ?? process.cwd();
  const out = parseLocation(output, cwd);
  const root = opts.root === undefined ? undefined : resolve(cwd, opts.root);
  const method = opts.deflate ? METHOD_DEFLATE : METHOD_STORED;
  const tally = new IoTally('zip', opts.progress);
  const paths = inputs.map((i) => {
    if (parseLocation(i, cwd).kind !== 'local')
      throw new ValidationError(`zip inputs must be local paths (got ${i})`, 'inputs');
    return resolve(cwd, i);
  });
  const fs = chooseLocalFs(out.kind === 'local' ? [...paths, out.path] : paths, opts.volume);
  const pool = poolFor(fs, opts.jobs ?? DEFAULT_JOBS);
  // On a local disk a read takes microseconds: reading far ahead of the writer only costs memory
  // (and page faults for fresh buffers), so the window is small there.
  const maxMemory = opts.maxMemory ?? DEFAULT_MAX_MEMORY;
  const budget = new MemoryBudget(fs.mode === 'direct' ? Math.min(maxMemory, DIRECT_READ_AHEAD) : maxMemory);
  for (const p of paths) if (root !== undefined && p !== root) entryName(root, p);

  let sink: ZipSink;
  if (out.kind === 'local') sink = await LocalZipSink.create(out.path, fs);
  else {
    if (!opts.store)
      throw new ValidationError('an s3:// output needs an object store (none configured)', 'store');
    sink = new S3ZipSink(opts.store, out.bucket, out.key);
  }
  const skip = await ownPathsAsWalked(sink.ownPaths, paths);
  // Read buffers are reused once written; an S3 sink keeps them queued for the upload, so not there.
  const buffers = new BufferPool(out.kind === 'local' ? WHOLE_FILE_MAX : 0);
  const slots = new OrderedSlots<Prepared>();
  let seq = 0;

  const reopened = new ListedDirectories(fs);
  const prepare = async (f: Found, ticket: number): Promise<Prepared> => {
    try {
      if (f.kind === 'directory') {
        tally.directories++;
        return {
          kind: 'directory',
          meta: {
            name: `${f.name}/`,
            mode: f.stats?.mode ?? 0o40755,
            mtimeMs: f.stats?.mtimeMs ?? Date.now(),
          },
        };
      }
      // Entries of a walked directory are read through its open fd: a directory swapped for a
      // symlink since the listing cannot redirect the read (walk.ts).
      if (f.listedIn) {
        const dir = await reopened.acquire(f.listedIn.path, f.listedIn.stats);
        try {
          return await readEntry(f, `${dir.at}/${f.listedIn.entry}`, ticket);
        } finally {
          dir.release();
        }
      }
      return await readEntry(f, f.at ?? f.path, ticket);
    } catch (err) {
      tally.fail(f.path, err);
      return { kind: 'failed' };
    } finally {
      f.done?.();
    }
  };

  /** A file or symlink, read through `at`. */
  const readEntry = async (f: Found, at: string, ticket: number): Promise<Prepared> => {
    if (f.kind === 'symlink') {
      // Info-ZIP's convention: the entry's data is the link target, its mode says "symlink".
      const [target, st] = await Promise.all([fs.readlink(at), fs.lstat(at)]);
      const data = Buffer.from(target, 'utf8');
      tally.symlinks++;
      return {
        kind: 'buffered',
        meta: { name: f.name, mode: st.mode, mtimeMs: st.mtimeMs },
        data,
        crc: crc32(data),
        size: data.length,
        method: METHOD_STORED,
        held: 0,
      };
    }
    const fh = await openListedFile(fs, at);
    let keep = false;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new IoItemError('not a regular file', 'NOT_A_FILE');
      const meta = { name: f.name, mode: st.mode, mtimeMs: st.mtimeMs };
      if (st.size > WHOLE_FILE_MAX) {
        // A reservation bounds how many large files sit open waiting for the writer.
        await budget.acquire(CHUNK_SIZE, ticket);
        keep = true;
        return { kind: 'streamed', meta, fh, size: st.size, held: CHUNK_SIZE, path: f.path };
      }
      await budget.acquire(st.size, ticket);
      const read = buffers.take(st.size);
      try {
        await readExactly(fh, read, st.size, 0);
      } catch (err) {
        buffers.give(read);
        budget.release(st.size);
        throw err;
      }
      const crc = crc32(read);
      let data = read;
      if (method === METHOD_DEFLATE && read.length > 0) {
        data = await deflateRawAsync(read);
        buffers.give(read);
      }
      return {
        kind: 'buffered',
        meta,
        data,
        crc,
        size: st.size,
        method: data.length === 0 ? METHOD_STORED : method,
        held: st.size,
        ...(data === read ? { pooled: read } : {}),
      };
    } finally {
      if (!keep) await fh.close().catch(() => {});
    }
  };

  const schedule = (f: Found) => {
    if (skip.has(f.path)) {
      f.done?.();
      return;
    }
    if (f.kind === 'file') tally.found();
    const ticket = seq++;
    let resolveSlot!: (p: Prepared) => void;
    slots.put(
      ticket,
      new Promise<Prepared>((r) => {
        resolveSlot = r;
      }),
    );
    // One lane: reads start in entry order, so memory is also taken in entry order.
    pool.push('', async () => resolveSlot(await prepare(f, ticket)));
  };

  const walkAll = async (emit: (f: Found) => void) => {
    for (const input of paths) {
      const base = root ?? dirname(input);
      let st: Awaited<ReturnType<typeof fs.lstat>>;
      try {
        st = await fs.lstat(input);
      } catch (err) {
        tally.fail(input, err);
        continue;
      }
      const name = input === base ? '' : entryName(base, input);
      if (!st.isDirectory()) {
        if (st.isFile() || st.isSymbolicLink())
          emit({ name, path: input, kind: st.isFile() ? 'file' : 'symlink' });
        else tally.fail(input, new IoItemError('not a regular file, directory or symlink', 'SPECIAL_FILE'));
        continue;
      }
      walkLocalTree(
        input,
        pool,
        {
          directory: (dir) => {
            const dirName = joinRel(name, dir.rel);
            if (dirName !== '')
              emit({
                name: dirName,
                path: dir.path,
                kind: 'directory',
                ...(dir.stats ? { stats: dir.stats } : {}),
              });
            // Unsorted, entries are read soon: through the walk's fd, let go after the last one.
            // Sorted, after the whole walk: the directory is opened again then (and checked).
            const done = opts.sort
              ? undefined
              : releaseAfter(
                  dir,
                  dir.entries.filter((e) => e.kind === 'file' || e.kind === 'symlink').length,
                );
            for (const e of dir.entries) {
              const path = `${dir.path}/${e.name}`;
              if (e.kind === 'file' || e.kind === 'symlink')
                emit({
                  name: joinRel(dirName, e.name),
                  path,
                  kind: e.kind,
                  ...(done
                    ? { at: `${dir.at}/${e.name}`, done }
                    : { listedIn: { path: dir.path, stats: dir.stats, entry: e.name } }),
                });
              else if (e.kind !== 'dir')
                tally.fail(
                  path,
                  new IoItemError(
                    `is a ${e.kind}: only files, directories and symlinks are zipped`,
                    'SPECIAL_FILE',
                  ),
                );
            }
            return true;
          },
          failed: (_rel, path, err) => tally.fail(path, err),
        },
        { statDirectories: true, fs, keepOpen: !opts.sort },
      );
      // The walk of each input schedules its reads on the pool; wait for the listing to finish.
      await pool.idle();
    }
  };

  const writer = new ZipWriter(sink);
  const writeAll = async () => {
    for (let i = 0; ; i++) {
      budget.allowOverdraft(i);
      const item = await slots.take(i);
      if (!item) break;
      if (item.kind === 'failed') continue;
      if (item.kind === 'directory') await writer.addDirectory(item.meta);
      else if (item.kind === 'buffered') {
        try {
          await writer.addBuffered(item.meta, item.data, item);
        } finally {
          if (item.held) budget.release(item.held);
          if (item.pooled) buffers.give(item.pooled);
        }
        if (!item.meta.name.endsWith('/') && (item.meta.mode & 0o170000) !== 0o120000)
          tally.fileDone(item.size);
      } else {
        try {
          budget.release(item.held);
          await writer.addStreamed(
            item.meta,
            readChunks(item.fh, item.size, { budget, ticket: i }),
            item.size,
            method,
          );
          tally.fileDone(item.size);
        } finally {
          await item.fh.close().catch(() => {});
        }
      }
    }
  };

  try {
    if (opts.sort) {
      const found: Found[] = [];
      await walkAll((f) => found.push(f));
      found.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const f of found) schedule(f);
      slots.setTotal(seq);
      await writeAll();
    } else {
      const writing = writeAll();
      const walking = walkAll(schedule).finally(() => slots.setTotal(seq));
      await Promise.all([walking, writing]);
    }
    await pool.idle();
    await writer.finish();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  return tally.summary(output);
}
