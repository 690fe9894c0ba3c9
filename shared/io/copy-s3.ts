// Copies that involve S3: upload (local -> s3), download (s3 -> local, large objects as parallel
// ranged GETs written at their offsets), and server-side copy (s3 -> s3, no bytes through us).
// S3 has no modes, symlinks or directories: the local mtime travels as `mtime` user metadata (the
// name rclone uses), an empty directory becomes a zero-byte "dir/" marker object and back, and
// symlinks are not uploaded (noted in the summary).
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import type { ObjectInfo, ObjectStore } from '../ports/object-store.ts';
import { CHUNK_SIZE, CHUNKS_IN_FLIGHT, WHOLE_FILE_MAX } from './constants.ts';
import { type LocalCopyContext, sameMtime, tempNameFor } from './copy-local.ts';
import { IoItemError } from './errors.ts';
import { readChunks, readWhole } from './file-read.ts';
import { joinRel, walkLocalTree, walkS3Prefix } from './walk.ts';

export interface S3CopyContext extends LocalCopyContext {
  store: ObjectStore;
  notes: string[];
  signal?: AbortSignal;
}

/** Parts of one multipart upload in flight. */
const UPLOAD_PARTS_IN_FLIGHT = 4;

/** What already sits under a destination prefix (for --update), keyed by full key. */
export async function listExisting(
  store: ObjectStore,
  bucket: string,
  prefix: string,
): Promise<Map<string, ObjectInfo>> {
  const found = new Map<string, ObjectInfo>();
  for await (const page of store.list(bucket, prefix)) for (const o of page) found.set(o.key, o);
  return found;
}

/** Uploads one local file; large files stream through a multipart upload, read at several offsets. */
export async function uploadFile(
  src: string,
  bucket: string,
  key: string,
  ctx: S3CopyContext,
  existing?: Map<string, ObjectInfo>,
): Promise<void> {
  const fh = await open(src, 'r');
  let held = 0;
  try {
    const st = await fh.stat();
    const prev = existing?.get(key);
    // S3 lists LastModified in whole seconds: an object written in the file's last second counts.
    if (
      ctx.update &&
      prev?.mtime &&
      prev.size === st.size &&
      prev.mtime.getTime() >= Math.floor(st.mtimeMs / 1000) * 1000
    ) {
      ctx.tally.skipFile();
      return;
    }
    const metadata = { mtime: (st.mtimeMs / 1000).toFixed(3) };
    if (st.size <= WHOLE_FILE_MAX) {
      await ctx.budget.acquire(st.size);
      held = st.size;
      const buf = await readWhole(fh, st.size);
      await ctx.store.put(bucket, key, buf, { size: st.size, metadata, ...sig(ctx) });
    } else {
      // One reservation for the whole transfer (chunks being read + parts the uploader buffers):
      // taking chunks one by one while holding the parts' share could wait on itself.
      held = CHUNK_SIZE * (CHUNKS_IN_FLIGHT + UPLOAD_PARTS_IN_FLIGHT);
      await ctx.budget.acquire(held);
      const body = Readable.from(readChunks(fh, st.size, {}), { objectMode: false });
      await ctx.store.put(bucket, key, body, {
        size: st.size,
        partSize: CHUNK_SIZE,
        partConcurrency: UPLOAD_PARTS_IN_FLIGHT,
        metadata,
        ...sig(ctx),
      });
    }
    ctx.tally.fileDone(st.size);
  } finally {
    if (held) ctx.budget.release(held);
    await fh.close().catch(() => {});
  }
}

function sig(ctx: S3CopyContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/** Uploads a local tree under `prefix` (which is '' or ends with '/'). */
export async function uploadTree(
  srcRoot: string,
  bucket: string,
  prefix: string,
  ctx: S3CopyContext,
): Promise<void> {
  const existing = ctx.update ? await listExisting(ctx.store, bucket, prefix) : undefined;
  const fail = (rel: string) => (err: unknown) =>
    ctx.tally.fail(rel === '' ? srcRoot : `${srcRoot}/${rel}`, err);
  walkLocalTree(srcRoot, ctx.pool, {
    directory: (dir) => {
      ctx.tally.directories++;
      ctx.tally.found(dir.entries.filter((e) => e.kind === 'file').length);
      if (dir.entries.length === 0 && dir.rel !== '') {
        const key = `${prefix}${dir.rel}/`;
        if (!existing?.has(key))
          ctx.pool.push(dir.rel, () =>
            ctx.store.put(bucket, key, Buffer.alloc(0), { size: 0 }).catch(fail(dir.rel)),
          );
      }
      for (const e of dir.entries) {
        const rel = joinRel(dir.rel, e.name);
        if (e.kind === 'file')
          ctx.pool.push(dir.rel, () =>
            uploadFile(`${dir.path}/${e.name}`, bucket, `${prefix}${rel}`, ctx, existing).catch(fail(rel)),
          );
        else if (e.kind === 'symlink')
          ctx.notes.push(`${srcRoot}/${rel}: symlink not copied (S3 has no symlinks)`);
        else if (e.kind !== 'dir')
          fail(rel)(
            new IoItemError(`is a ${e.kind}: only files and directories are uploaded`, 'SPECIAL_FILE'),
          );
      }
      return true;
    },
    failed: (rel, _path, err) => fail(rel)(err),
  });
  await ctx.pool.idle();
}

/** Writes an object into a local file via a temp name; large objects as parallel ranged GETs. */
export async function downloadObject(
  bucket: string,
  obj: ObjectInfo,
  dst: string,
  ctx: S3CopyContext,
): Promise<void> {
  const mtimeMs = obj.mtime?.getTime();
  if (ctx.update && mtimeMs !== undefined) {
    const d = await lstat(dst).catch(() => undefined);
    if (d?.isFile() && d.size === obj.size && sameMtime(d.mtimeMs, mtimeMs)) {
      ctx.tally.skipFile();
      return;
    }
  }
  const tmp = tempNameFor(dst);
  const out = await open(tmp, 'wx', 0o666);
  try {
    const writeBody = async (body: Readable, position: number) => {
      let pos = position;
      for await (const chunk of body as AsyncIterable<Buffer>) {
        let done = 0;
        while (done < chunk.length)
          done += (await out.write(chunk, done, chunk.length - done, pos + done)).bytesWritten;
        pos += chunk.length;
      }
      return pos - position;
    };
    if (obj.size <= WHOLE_FILE_MAX) {
      const r = await ctx.store.get(bucket, obj.key, sig(ctx));
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
            ...sig(ctx),
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
    ctx.tally.fileDone(obj.size);
  } catch (err) {
    await out.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** A key below the source prefix as a safe relative path (no '..', no absolute, no empty parts). */
export function safeRelativeKey(rel: string): string | undefined {
  const parts = rel.replace(/\/$/, '').split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
  return parts.join('/');
}

/** Downloads every object under `prefix` into `dstRoot`. Keys ending in '/' become directories. */
export async function downloadTree(
  bucket: string,
  prefix: string,
  dstRoot: string,
  ctx: S3CopyContext,
): Promise<void> {
  const made = new Map<string, Promise<void>>();
  const ensureDir = (path: string): Promise<void> => {
    let p = made.get(path);
    if (!p) {
      p = mkdir(path, { recursive: true }).then(() => {});
      made.set(path, p);
    }
    return p;
  };
  await ensureDir(dstRoot);
  ctx.tally.directories++;
  await walkS3Prefix(
    ctx.store,
    bucket,
    prefix,
    ctx.pool,
    (page) => {
      ctx.tally.found(page.length);
      for (const obj of page) {
        const url = `s3://${bucket}/${obj.key}`;
        const rel = safeRelativeKey(obj.key.slice(prefix.length));
        if (obj.key === prefix) continue; // the prefix's own marker
        if (rel === undefined) {
          ctx.tally.fail(
            url,
            new IoItemError(
              'key is not a safe relative path (empty, . or .. parts): not copied',
              'UNSAFE_KEY',
            ),
          );
          continue;
        }
        const dst = `${dstRoot}/${rel}`;
        if (obj.key.endsWith('/')) {
          ctx.pool.push(rel, () =>
            ensureDir(dst).then(
              () => {
                ctx.tally.directories++;
              },
              (err) => ctx.tally.fail(url, err),
            ),
          );
          continue;
        }
        const parent = dirname(rel);
        ctx.pool.push(parent, async () => {
          try {
            await ensureDir(dirname(dst));
            await downloadObject(bucket, obj, dst, ctx);
          } catch (err) {
            ctx.tally.fail(url, err);
          }
        });
      }
    },
    ctx.signal,
  );
  await ctx.pool.idle();
}

/** Server-side copy of every object under `srcPrefix` to `dstPrefix`. */
export async function copyS3Tree(
  src: { bucket: string; prefix: string },
  dst: { bucket: string; prefix: string },
  ctx: S3CopyContext,
): Promise<void> {
  const existing = ctx.update ? await listExisting(ctx.store, dst.bucket, dst.prefix) : undefined;
  await walkS3Prefix(
    ctx.store,
    src.bucket,
    src.prefix,
    ctx.pool,
    (page) => {
      ctx.tally.found(page.length);
      for (const obj of page) {
        const rel = obj.key.slice(src.prefix.length);
        const key = `${dst.prefix}${rel}`;
        ctx.pool.push(dirname(rel), () => copyObject(src.bucket, obj, dst.bucket, key, ctx, existing));
      }
    },
    ctx.signal,
  );
  await ctx.pool.idle();
}

export async function copyObject(
  srcBucket: string,
  obj: ObjectInfo,
  dstBucket: string,
  dstKey: string,
  ctx: S3CopyContext,
  existing?: Map<string, ObjectInfo>,
): Promise<void> {
  const prev = existing?.get(dstKey);
  if (ctx.update && prev && prev.size === obj.size && prev.mtime && obj.mtime && prev.mtime >= obj.mtime) {
    ctx.tally.skipFile();
    return;
  }
  try {
    await ctx.store.copy({ bucket: srcBucket, key: obj.key }, { bucket: dstBucket, key: dstKey }, obj.size);
    ctx.tally.fileDone(obj.size);
  } catch (err) {
    ctx.tally.fail(`s3://${srcBucket}/${obj.key}`, err);
  }
}
