// s3 -> local: objects land via a temp name + rename with the object's LastModified as mtime (so
// --update can compare them with a listing); large objects are fetched as parallel ranged GETs
// (pinned to one ETag) written at their offsets; "dir/" marker keys become directories.
import { closeSync, futimesSync, openSync, renameSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectInfo } from '../ports/object-store.ts';
import { CHUNK_SIZE, CHUNKS_IN_FLIGHT, WHOLE_FILE_MAX } from './constants.ts';
import { sameMtime, selectFile, tempNameFor } from './copy-local.ts';
import { type S3CopyContext, withSignal, writesInline } from './copy-s3-context.ts';
import { IoItemError, noSuchPrefix } from './errors.ts';
import { walkS3Prefix } from './walk.ts';

const WRITE_BATCH = 1024 * 1024;

/**
 * Writes an object into a local file via a temp name; large objects as parallel ranged GETs.
 * `inlineWrites`: the destination is a local disk (see writesInline), so an object
 * of up to one write batch is gathered and written with synchronous calls.
 */
export async function downloadObject(
  bucket: string,
  obj: ObjectInfo,
  dst: string,
  ctx: S3CopyContext,
  inlineWrites = false,
): Promise<void> {
  const mtimeMs = obj.mtime?.getTime();
  if (ctx.update && mtimeMs !== undefined) {
    const d = await lstat(dst).catch(() => undefined);
    if (d?.isFile() && d.size === obj.size && sameMtime(d.mtimeMs, mtimeMs)) {
      ctx.tally.skipFile();
      return;
    }
  }
  // What this download may hold in memory: one write batch per stream in flight.
  const streams =
    obj.size > WHOLE_FILE_MAX ? Math.min(CHUNKS_IN_FLIGHT, Math.ceil(obj.size / CHUNK_SIZE)) : 1;
  const held = Math.max(1, Math.min(obj.size, WRITE_BATCH)) * streams;
  await ctx.budget.acquire(held);
  const tmp = tempNameFor(dst);
  const url = `s3://${bucket}/${obj.key}`;
  if (inlineWrites && obj.size <= (ctx.rate ? Math.min(WRITE_BATCH, ctx.rate.chunkSize) : WRITE_BATCH)) {
    try {
      if (ctx.rate) await ctx.rate.take(obj.size, ctx.signal);
      const r = await ctx.store.get(bucket, obj.key, withSignal(ctx));
      const chunks = await gather(r.body, obj.size);
      writeFileInline(tmp, dst, chunks, obj.size, mtimeMs);
      ctx.tally.copied(url, dst, obj.size);
    } finally {
      ctx.budget.release(held);
    }
    return;
  }
  const out = await open(tmp, 'wx', 0o666).catch((err) => {
    ctx.budget.release(held);
    throw err;
  });
  try {
    // Response chunks are small (16-64 KiB): gather up to 1 MiB per positional writev, so a
    // 100 KiB object costs one write instead of several.
    const writeBody = async (body: Readable, position: number) => {
      let pos = position;
      let batch: Buffer[] = [];
      let batched = 0;
      const flush = async () => {
        let done = 0;
        while (done < batched) {
          const { bytesWritten } = await out.writev(
            done === 0 ? batch : [Buffer.concat(batch).subarray(done)],
            pos + done,
          );
          done += bytesWritten;
        }
        pos += batched;
        batch = [];
        batched = 0;
      };
      for await (const chunk of body as AsyncIterable<Buffer>) {
        if (ctx.rate) await ctx.rate.take(chunk.length, ctx.signal);
        batch.push(chunk);
        batched += chunk.length;
        if (batched >= WRITE_BATCH) await flush();
      }
      if (batched > 0) await flush();
      return pos - position;
    };
    if (obj.size <= WHOLE_FILE_MAX) {
      const r = await ctx.store.get(bucket, obj.key, withSignal(ctx));
      const n = await writeBody(r.body, 0);
      if (n !== obj.size) throw new IoItemError(`got ${n} bytes, expected ${obj.size}`, 'SHORT_READ');
    } else {
      const head = obj.etag ? undefined : await ctx.store.head(bucket, obj.key);
      const etag = obj.etag ?? head?.etag;
      const ranges: { start: number; end: number }[] = [];
      for (let s = 0; s < obj.size; s += CHUNK_SIZE)
        ranges.push({ start: s, end: Math.min(s + CHUNK_SIZE, obj.size) - 1 });
      let next = 0;
      const worker = async () => {
        while (next < ranges.length) {
          const range = ranges[next++]!;
          const r = await ctx.store.get(bucket, obj.key, {
            range,
            ...(etag ? { ifMatch: etag } : {}),
            ...withSignal(ctx),
          });
          const n = await writeBody(r.body, range.start);
          if (n !== range.end - range.start + 1)
            throw new IoItemError(`short ranged read at ${range.start}`, 'SHORT_READ');
        }
      };
      await Promise.all(Array.from({ length: Math.min(CHUNKS_IN_FLIGHT, ranges.length) }, worker));
    }
    if (mtimeMs !== undefined) await out.utimes(mtimeMs / 1000, mtimeMs / 1000);
    await out.close();
    await rename(tmp, dst);
    ctx.tally.copied(url, dst, obj.size);
  } catch (err) {
    await out.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  } finally {
    ctx.budget.release(held);
  }
}

/**
 * A body of exactly `size` bytes as its chunks (data events: cheaper than async iteration, which
 * costs a promise per chunk).
 */
function gather(body: Readable, size: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    body.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      n += chunk.length;
      if (n > size) body.destroy(new IoItemError(`got more than the ${size} bytes listed`, 'SIZE_CHANGED'));
    });
    body.once('error', reject);
    body.once('end', () => {
      if (n === size) resolve(chunks);
      else reject(new IoItemError(`got ${n} bytes, expected ${size}`, 'SHORT_READ'));
    });
  });
}

/** tmp <- chunks, mtime, then rename to dst: five system calls, none through the threadpool. */
function writeFileInline(tmp: string, dst: string, chunks: Buffer[], size: number, mtimeMs?: number): void {
  const fd = openSync(tmp, 'wx', 0o666);
  let open = true;
  try {
    let done = writevSync(fd, chunks, 0);
    if (done < size) {
      const whole = Buffer.concat(chunks);
      while (done < size) done += writeSync(fd, whole, done, size - done, done);
    }
    if (mtimeMs !== undefined) futimesSync(fd, mtimeMs / 1000, mtimeMs / 1000);
    open = false;
    closeSync(fd);
    renameSync(tmp, dst);
  } catch (err) {
    // Only close what is still ours: the number may already belong to a file opened elsewhere.
    try {
      if (open) closeSync(fd);
      unlinkSync(tmp);
    } catch {}
    throw err;
  }
}

/** A key below the source prefix as a safe relative path (no '..', no absolute, no empty parts). */
export function safeRelativeKey(rel: string): string | undefined {
  const parts = rel.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return parts.join('/');
}

/**
 * Downloads every object under `prefix` into `dstRoot`; keys ending in '/' become directories.
 * `pages` is the prefix's listing (already started by the caller). Throws NOT_FOUND, and creates
 * nothing, if it lists nothing.
 */
export async function downloadTree(
  bucket: string,
  prefix: string,
  dstRoot: string,
  ctx: S3CopyContext,
  pages: AsyncIterable<ObjectInfo[]> = ctx.store.list(bucket, prefix, ctx.signal),
): Promise<void> {
  const made = new Map<string, Promise<void>>();
  const ensureDir = (path: string): Promise<void> => {
    let p = made.get(path);
    if (!p) {
      p = mkdir(path, { recursive: true }).then(() => {
        if (path !== dstRoot) ctx.tally.directories++;
      });
      made.set(path, p);
    }
    return p;
  };
  let inline = false;
  const listed = await walkS3Prefix(pages, ctx.pool, async (page) => {
    if (!made.has(dstRoot)) {
      await ensureDir(dstRoot);
      ctx.tally.directories++;
      inline = writesInline(dstRoot, ctx);
    }
    ctx.tally.found(page.length);
    for (const obj of page) {
      const url = `s3://${bucket}/${obj.key}`;
      const rel = safeRelativeKey(obj.key.slice(prefix.length));
      if (obj.key === prefix) continue; // the prefix's own marker
      if (rel !== undefined && ctx.filter) {
        const dirRel = obj.key.endsWith('/') ? rel : dirname(rel);
        if (dirRel !== '.' && !ctx.filter.walks(dirRel)) {
          ctx.tally.found(-1);
          continue;
        }
      }
      if (rel !== undefined && !obj.key.endsWith('/')) {
        const what = selectFile(ctx, rel);
        if (what !== 'copy') {
          if (what === 'skip') ctx.tally.skipFile();
          else ctx.tally.found(-1);
          continue;
        }
      }
      if (rel === undefined) {
        ctx.tally.fail(
          url,
          new IoItemError('key is not a safe relative path (empty, . or .. parts): not copied', 'UNSAFE_KEY'),
        );
        continue;
      }
      const dst = `${dstRoot}/${rel}`;
      if (obj.key.endsWith('/')) {
        ctx.pool.push(rel, () => ensureDir(dst).catch((err) => ctx.tally.fail(url, err)));
        continue;
      }
      const parent = dirname(rel);
      ctx.pool.push(parent, async () => {
        try {
          await ensureDir(dirname(dst));
          await downloadObject(bucket, obj, dst, ctx, inline);
        } catch (err) {
          ctx.tally.fail(url, err);
        }
      });
    }
  });
  await ctx.pool.idle();
  if (listed === 0) throw noSuchPrefix(bucket, prefix);
}
