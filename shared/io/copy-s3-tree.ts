// s3 -> s3: server-side copies (CopyObject, multipart copy for large objects): no bytes pass
// through this process.
import { dirname } from 'node:path';
import type { ObjectInfo } from '../ports/object-store.ts';
import { selectFile } from './copy-local.ts';
import { listExisting, type S3CopyContext } from './copy-s3-context.ts';
import { noSuchPrefix } from './errors.ts';
import { walkS3Prefix } from './walk.ts';

/**
 * Server-side copy of every object under `src.prefix` to `dst.prefix`; `pages` is the source's
 * listing (already started by the caller). Throws NOT_FOUND if it lists nothing.
 */
export async function copyS3Tree(
  src: { bucket: string; prefix: string },
  dst: { bucket: string; prefix: string },
  ctx: S3CopyContext,
  pages: AsyncIterable<ObjectInfo[]> = ctx.store.list(src.bucket, src.prefix, ctx.signal),
): Promise<void> {
  const existing = ctx.update ? await listExisting(ctx.store, dst.bucket, dst.prefix) : undefined;
  const listed = await walkS3Prefix(pages, ctx.pool, (page) => {
    ctx.tally.found(page.length);
    for (const obj of page) {
      const rel = obj.key.slice(src.prefix.length);
      const key = `${dst.prefix}${rel}`;
      const what = rel.endsWith('/')
        ? ctx.filter && !ctx.filter.walks(rel.slice(0, -1))
          ? 'exclude'
          : 'copy'
        : selectFile(ctx, rel);
      if (what !== 'copy') {
        if (what === 'skip') ctx.tally.skipFile();
        else ctx.tally.found(-1);
        continue;
      }
      ctx.pool.push(dirname(rel), () => copyObject(src.bucket, obj, dst.bucket, key, ctx, existing));
    }
  });
  await ctx.pool.idle();
  if (listed === 0) throw noSuchPrefix(src.bucket, src.prefix);
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
    ctx.tally.copied(`s3://${srcBucket}/${obj.key}`, `s3://${dstBucket}/${dstKey}`, obj.size);
  } catch (err) {
    ctx.tally.fail(`s3://${srcBucket}/${obj.key}`, err);
  }
}
