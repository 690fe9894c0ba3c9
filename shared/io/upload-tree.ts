// local -> s3: files up to WHOLE_FILE_MAX in one PutObject, larger ones streamed as multipart
// uploads read at several offsets at once. S3 has no modes, symlinks or directories: the mtime
// travels as `mtime` user metadata (the name rclone uses), an empty directory becomes a zero-byte
// "dir/" marker object, and symlinks are not uploaded (listed in the summary's notes).
import { Readable } from 'node:stream';
import type { ObjectInfo } from '../ports/object-store.ts';
import { CHUNK_SIZE, CHUNKS_IN_FLIGHT, WHOLE_FILE_MAX } from './constants.ts';
import { selectFile } from './copy-local.ts';
import { listExisting, type S3CopyContext, withSignal } from './copy-s3-context.ts';
import { IoItemError } from './errors.ts';
import { readChunks, readWhole } from './file-read.ts';
import { threadedFs } from './local-fs.ts';
import { joinRel, openListedFile, releaseAfter, walkLocalTree } from './walk.ts';

/** Parts of one multipart upload in flight. */
const UPLOAD_PARTS_IN_FLIGHT = 4;

/**
 * Uploads one local file; large files stream through a multipart upload, read at several offsets.
 * `src` is opened once, without following a symlink (it may be `${dir.at}/${name}` from the walk;
 * `shownAs` is its path for the log).
 */
export async function uploadFile(
  src: string,
  bucket: string,
  key: string,
  ctx: S3CopyContext,
  existing?: Map<string, ObjectInfo>,
  shownAs = src,
): Promise<void> {
  const fh = await openListedFile(threadedFs, src);
  let held = 0;
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new IoItemError('not a regular file', 'NOT_A_FILE');
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
    if (st.size <= (ctx.rate ? Math.min(WHOLE_FILE_MAX, ctx.rate.chunkSize) : WHOLE_FILE_MAX)) {
      await ctx.budget.acquire(st.size);
      held = st.size;
      if (ctx.rate) await ctx.rate.take(st.size, ctx.signal);
      const buf = await readWhole(fh, st.size);
      await ctx.store.put(bucket, key, buf, { size: st.size, metadata, ...withSignal(ctx) });
    } else {
      // One reservation for the whole transfer (chunks being read + parts the uploader buffers):
      // taking chunks one by one while holding the parts' share could wait on itself.
      held = CHUNK_SIZE * (CHUNKS_IN_FLIGHT + UPLOAD_PARTS_IN_FLIGHT);
      await ctx.budget.acquire(held);
      const chunks = readChunks(fh, st.size, ctx.rate ? { chunkSize: ctx.rate.chunkSize } : {});
      const body = Readable.from(ctx.rate ? ctx.rate.pace(chunks, ctx.signal) : chunks, {
        objectMode: false,
      });
      await ctx.store.put(bucket, key, body, {
        size: st.size,
        partSize: CHUNK_SIZE,
        partConcurrency: UPLOAD_PARTS_IN_FLIGHT,
        metadata,
        ...withSignal(ctx),
      });
    }
    ctx.tally.copied(shownAs, `s3://${bucket}/${key}`, st.size);
  } finally {
    if (held) ctx.budget.release(held);
    await fh.close().catch(() => {});
  }
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
  walkLocalTree(
    srcRoot,
    ctx.pool,
    {
      directory: (dir) => {
        if (ctx.filter && !ctx.filter.walks(dir.rel)) {
          dir.release();
          return false;
        }
        ctx.tally.directories++;
        ctx.tally.found(dir.entries.filter((e) => e.kind === 'file').length);
        if (dir.entries.length === 0 && dir.rel !== '') {
          const key = `${prefix}${dir.rel}/`;
          if (!existing?.has(key))
            ctx.pool.push(dir.rel, () =>
              ctx.store.put(bucket, key, Buffer.alloc(0), { size: 0 }).catch(fail(dir.rel)),
            );
        }
        const uploads: string[] = [];
        for (const e of dir.entries) {
          const rel = joinRel(dir.rel, e.name);
          if (e.kind !== 'dir') {
            const what = selectFile(ctx, rel);
            if (what !== 'copy') {
              if (e.kind === 'file') {
                if (what === 'skip') ctx.tally.skipFile();
                else ctx.tally.found(-1);
              }
              continue;
            }
          }
          if (e.kind === 'file') uploads.push(e.name);
          else if (e.kind === 'symlink')
            ctx.notes.push(`${srcRoot}/${rel}: symlink not copied (S3 has no symlinks)`);
          else if (e.kind !== 'dir')
            fail(rel)(
              new IoItemError(`is a ${e.kind}: only files and directories are uploaded`, 'SPECIAL_FILE'),
            );
        }
        // Files are read through the directory's open fd, let go once the last is uploaded.
        const done = releaseAfter(dir, uploads.length);
        for (const name of uploads) {
          const rel = joinRel(dir.rel, name);
          ctx.pool.push(dir.rel, () =>
            uploadFile(`${dir.at}/${name}`, bucket, `${prefix}${rel}`, ctx, existing, `${dir.path}/${name}`)
              .catch(fail(rel))
              .finally(done),
          );
        }
        return true;
      },
      failed: (rel, _path, err) => fail(rel)(err),
    },
    { keepOpen: true },
  );
  await ctx.pool.idle();
}
