// Answers a GET or HEAD of one object from its blocks: learns the version (MetaResolver), judges
// the reader's conditions and Range against it, then sends each block's slice from its file, from
// a fetch in flight, or (full disk) straight from the origin, keeping the next blocks fetching
// ahead. Once the head is sent, a failure can only cut the answer short: a version change midway
// ends the connection rather than mix two versions' bytes.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { copySlice, drained, ReaderGoneError, relay, sendError, write, writeTaken } from './answers.ts';
import type { BlockFetch } from './block-fetch.ts';
import { type BlockHandle, type BlockSource, checkBlockAnswer } from './block-source.ts';
import { BLOCK_HEADER_BYTES, SERVE_CHUNK } from './constants.ts';
import { BlockStoreError, OriginAnswerError, OriginUnreachableError, VersionChangedError } from './errors.ts';
import type { MetaResolver } from './meta-resolver.ts';
import type { OriginClient } from './origin-client.ts';
import type { ObjectRef } from './origins.ts';
import { evaluatePreconditions, rangeStillApplies } from './preconditions.ts';
import { blockCount, blockLength, firstBlockHint, parseRange } from './range.ts';
import type { CacheStats, Log, ObjectMeta } from './types.ts';

export interface ReadThroughDeps {
  resolver: MetaResolver;
  blocks: BlockSource;
  client: OriginClient;
  stats: CacheStats;
  blockSize: number;
  readAhead: number;
  log: Log;
}

export interface ServeContext {
  /** Sends the reader's request to the origin as is (an object the cache cannot key). */
  passThrough: () => Promise<void>;
  /** Adjusts relayed origin headers (redirects pointed back through the cache). */
  rewrite?: (h: OutgoingHttpHeaders) => void;
  resource: string;
}

/** Objects whose sequential position is remembered, for read-ahead. */
const TRACKED = 10_000;
/** Distinct problems logged (then silence). */
const TOLD = 100;

function validators(meta: ObjectMeta): Record<string, string> {
  return {
    ...(meta.etag ? { etag: meta.etag } : {}),
    ...(meta.lastModified ? { 'last-modified': meta.lastModified } : {}),
  };
}

export class ReadThrough {
  /** Where each recently read object's last range ended (+1). */
  private readonly nextStart = new Map<string, number>();
  private readonly told = new Set<string>();

  constructor(private readonly d: ReadThroughDeps) {}

  async serve(req: IncomingMessage, res: ServerResponse, ref: ObjectRef, ctx: ServeContext): Promise<void> {
    const head = req.method === 'HEAD';
    const bs = this.d.blockSize;
    const shape = { s3: ref.s3, head, resource: ctx.resource };
    const hint = firstBlockHint(req.headers.range, bs);
    let out: Awaited<ReturnType<MetaResolver['resolve']>>;
    try {
      out = await this.d.resolver.resolve(ref, { method: head ? 'HEAD' : 'GET', block: hint });
    } catch (err) {
      if (err instanceof OriginUnreachableError)
        return sendError(res, shape, 502, 'BadGateway', `sluice cache: ${err.message}`);
      throw err;
    }
    if (out.kind === 'answer') return relay(res, out.res, head, ctx.rewrite);
    if (out.kind === 'uncacheable') {
      this.d.stats.passThrough++;
      return ctx.passThrough();
    }
    const { meta } = out;
    let first = out.first;
    const dropFirst = () => {
      first?.res.destroy();
      first = undefined;
    };

    const cond = evaluatePreconditions(req.headers, meta);
    if (cond !== 200) {
      dropFirst();
      if (cond === 412)
        return sendError(
          res,
          shape,
          412,
          'PreconditionFailed',
          'At least one of the preconditions did not hold',
        );
      res.writeHead(304, validators(meta));
      res.end();
      return;
    }
    const range = rangeStillApplies(req.headers, meta) ? parseRange(req.headers.range, meta.size) : undefined;
    if (range === 'unsatisfiable') {
      dropFirst();
      return sendError(
        res,
        { ...shape, headers: { 'content-range': `bytes */${meta.size}` } },
        416,
        'InvalidRange',
        'The requested range is not satisfiable',
      );
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? meta.size - 1;
    const firstBlock = Math.floor(start / bs);
    const lastBlock = meta.size === 0 ? -1 : Math.floor(end / bs);
    if (first && !this.d.blocks.degraded) {
      this.d.blocks.adopt(ref, meta, first.n, first.res);
      first = undefined;
    }
    if (first && (head || first.n < firstBlock || first.n > lastBlock)) dropFirst();

    let cached = 0;
    for (let n = firstBlock; n <= lastBlock; n++) if (this.d.blocks.isCached(ref, meta, n)) cached++;
    const blocks = lastBlock - firstBlock + 1;
    if (out.stale && !head && cached < blocks) {
      dropFirst();
      return sendError(res, shape, 502, 'BadGateway', `sluice cache: ${out.stale.message}`);
    }
    const headers: OutgoingHttpHeaders = {
      ...meta.headers,
      ...validators(meta),
      'accept-ranges': 'bytes',
      'content-length': String(end - start + 1),
      'x-sluice-cache': cached === blocks ? 'hit' : cached === 0 ? 'miss' : 'partial',
    };
    if (range) headers['content-range'] = `bytes ${start}-${end}/${meta.size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (head || lastBlock < firstBlock) {
      dropFirst();
      res.end();
      return;
    }

    const ahead = this.sequential(ref.id, start, end) ? this.d.readAhead : 0;
    const lastAhead = Math.min(blockCount(meta.size, bs) - 1, lastBlock + ahead);
    try {
      for (let n = firstBlock; n <= lastBlock; n++) {
        const given = first?.n === n ? first.res : undefined;
        if (given) first = undefined;
        const handle = given ? undefined : await this.d.blocks.get(ref, meta, n);
        for (let k = n + 1; k <= Math.min(n + this.d.readAhead, lastAhead); k++)
          this.d.blocks.prefetch(ref, meta, k);
        const from = n === firstBlock ? start - n * bs : 0;
        const to = n === lastBlock ? end - n * bs : blockLength(n, bs, meta.size) - 1;
        await this.sendBlock(res, ref, meta, n, from, to, handle, given);
      }
      res.end();
    } catch (err) {
      // The head is sent: all that is left is to cut the answer short (the reader sees it).
      dropFirst();
      res.destroy();
      if (!(err instanceof ReaderGoneError))
        this.tell(`${ctx.resource}: answer cut short: ${(err as Error).message}`);
    }
  }

  /** Logs a line once (a flapping origin must not flood the log). */
  private tell(line: string): void {
    if (this.told.has(line) || this.told.size >= TOLD) return;
    this.told.add(line);
    this.d.log(`cache: ${line}`);
  }

  /** True when this range continues the last one read (or starts the object): read ahead. */
  private sequential(id: string, start: number, end: number): boolean {
    const expected = this.nextStart.get(id);
    this.nextStart.delete(id);
    this.nextStart.set(id, end + 1);
    if (this.nextStart.size > TRACKED) {
      const oldest = this.nextStart.keys().next().value;
      if (oldest !== undefined) this.nextStart.delete(oldest);
    }
    return start === 0 || expected === start;
  }

  /** Sends bytes from..to (block-relative, inclusive) of block `n`. */
  private async sendBlock(
    res: ServerResponse,
    ref: ObjectRef,
    meta: ObjectMeta,
    n: number,
    from: number,
    to: number,
    handle: BlockHandle | undefined,
    given: IncomingMessage | undefined,
  ): Promise<void> {
    const base = n * this.d.blockSize;
    if (given) {
      const sent = await copySlice(res, given, from, to - from + 1);
      if (sent < to - from + 1) throw new OriginAnswerError(ref.origin, 'the answer ended early');
      return;
    }
    let h = handle;
    let pos = from;
    for (let attempt = 0; ; attempt++) {
      h ??= await this.d.blocks.get(ref, meta, n);
      if (h.kind === 'file') {
        try {
          await this.sendFile(res, h.fh, pos, to);
        } finally {
          await h.fh.close().catch(() => {});
        }
        return;
      }
      if (h.kind === 'direct') return this.direct(res, ref, meta, base + pos, base + to);
      const f = h.fetch;
      try {
        pos = await follow(res, f, pos, to);
      } finally {
        f.release();
      }
      if (pos > to) return;
      const err = f.error ?? new Error('the block fetch ended early');
      if (err instanceof BlockStoreError) return this.direct(res, ref, meta, base + pos, base + to);
      if (err instanceof VersionChangedError || attempt >= 1) throw err;
      h = undefined;
    }
  }

  /**
   * Sends from..to of a complete block file: two buffers take turns, one being read into while the
   * other is written out (a buffer is reused only once the socket has taken it: no copy, no new
   * allocation per chunk).
   */
  private async sendFile(res: ServerResponse, fh: FileHandle, from: number, to: number): Promise<void> {
    const size = Math.min(SERVE_CHUNK, to - from + 1);
    const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    const taken: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
    const readInto = async (k: number, p: number) => {
      await taken[k];
      const b = bufs[k]!;
      const { bytesRead } = await fh.read(b, 0, Math.min(b.length, to - p + 1), BLOCK_HEADER_BYTES + p);
      return b.subarray(0, bytesRead);
    };
    let pos = from;
    let k = 0;
    let next = readInto(0, pos);
    while (pos <= to) {
      const b = await next;
      if (b.length === 0) throw new Error('block file shorter than indexed');
      pos += b.length;
      if (pos <= to) {
        next = readInto(k ^ 1, pos);
        next.catch(() => {});
      }
      taken[k] = writeTaken(res, b);
      await drained(res);
      this.d.stats.bytesFromCache += b.length;
      k ^= 1;
    }
    await taken[k ^ 1];
  }

  /** A range straight from the origin (nothing stored), checked to be of the reader's version. */
  private async direct(res: ServerResponse, ref: ObjectRef, meta: ObjectMeta, start: number, end: number) {
    this.d.stats.passThrough++;
    const headers: Record<string, string> = { range: `bytes=${start}-${end}` };
    if (ref.s3 && meta.etag) headers['if-match'] = meta.etag;
    const up = await this.d.client.send('GET', await ref.request('GET', headers), ref.origin);
    checkBlockAnswer(up, ref, meta, { start, end });
    const sent = await copySlice(res, up, 0, end - start + 1);
    this.d.stats.bytesFromOrigin += sent;
    if (sent < end - start + 1) throw new OriginAnswerError(ref.origin, 'the answer ended early');
  }
}

/** Sends from..to of a block being fetched, as its bytes arrive; returns where it stopped. */
async function follow(res: ServerResponse, f: BlockFetch, from: number, to: number): Promise<number> {
  let pos = from;
  while (pos <= to) {
    await f.waitFor(pos);
    if (f.received <= pos) return pos;
    const parts = await f.slice(pos, Math.min(SERVE_CHUNK, to - pos + 1));
    if (parts.length === 0) return pos;
    const last = parts.pop()!;
    res.cork();
    for (const p of parts) {
      res.write(p);
      pos += p.length;
    }
    process.nextTick(() => res.uncork());
    await write(res, last);
    pos += last.length;
  }
  return pos;
}
