// What the cache knows about an object's current version, and how it learns it: kept for the TTL,
// then asked again. A cold GET learns it from the reader's first block (one ranged GET brings the
// version and the block's bytes); a HEAD, or a GET whose block is already cached, asks with a HEAD.
// Concurrent readers of an object wait for one such request. When the origin cannot be reached,
// an expired version whose blocks are cached is served (stale-if-error); a 404 drops the object.
import type { IncomingMessage } from 'node:http';
import type { BlockStore } from './block-store.ts';
import { META_ENTRIES } from './constants.ts';
import { OriginUnreachableError } from './errors.ts';
import { metaFromAnswer } from './object-meta.ts';
import type { OriginClient } from './origin-client.ts';
import type { ObjectRef } from './origins.ts';
import { blockRange } from './range.ts';
import type { CacheStats, ObjectMeta } from './types.ts';

export type MetaOutcome =
  | {
      kind: 'meta';
      meta: ObjectMeta;
      /** The answer to the request that learnt it: block `n`'s bytes, body unread. */
      first?: { n: number; res: IncomingMessage };
      /** Set when the origin could not be reached and an expired version is used. */
      stale?: OriginUnreachableError;
    }
  /** The origin's own answer (an error status), to relay to the reader. */
  | { kind: 'answer'; res: IncomingMessage }
  /** No strong validator, or no ranges: the reader's request is passed through. */
  | { kind: 'uncacheable' };

export interface MetaResolverDeps {
  client: OriginClient;
  store: BlockStore;
  stats: CacheStats;
  blockSize: number;
  ttlMs: number;
  now: () => number;
}

/** After an unreachable origin, an expired version is used without asking again for this long. */
const STALE_GRACE_MS = 5_000;

export class MetaResolver {
  private readonly metas = new Map<string, ObjectMeta>();
  private readonly pending = new Map<string, Promise<void>>();
  /** Objects found uncacheable, until when (asking again costs a ranged GET per read). */
  private readonly uncacheable = new Map<string, number>();

  constructor(private readonly d: MetaResolverDeps) {}

  /** Forgets what is known about these objects (a write passed through, a version changed). */
  forget(id: string, opts: { blocks?: boolean } = {}): void {
    this.metas.delete(id);
    this.uncacheable.delete(id);
    if (opts.blocks) this.d.store.dropObject(this.d.store.objectHash(id));
  }

  forgetPrefix(prefix: string): void {
    for (const id of this.metas.keys()) if (id.startsWith(prefix)) this.metas.delete(id);
    for (const id of this.uncacheable.keys()) if (id.startsWith(prefix)) this.uncacheable.delete(id);
  }

  async resolve(ref: ObjectRef, want: { method: 'GET' | 'HEAD'; block: number }): Promise<MetaOutcome> {
    if ((this.uncacheable.get(ref.id) ?? 0) > this.d.now()) return { kind: 'uncacheable' };
    for (;;) {
      const meta = this.fresh(ref.id);
      if (meta) return { kind: 'meta', meta };
      const p = this.pending.get(ref.id);
      if (!p) break;
      await p;
      // The request we waited for may have failed or found no version: then ask ourselves.
      if (!this.pending.has(ref.id)) {
        const m = this.fresh(ref.id);
        if (m) return { kind: 'meta', meta: m };
        break;
      }
    }
    let done = () => {};
    this.pending.set(
      ref.id,
      new Promise<void>((r) => {
        done = r;
      }),
    );
    try {
      return await this.ask(ref, want);
    } finally {
      this.pending.delete(ref.id);
      done();
    }
  }

  private fresh(id: string): ObjectMeta | undefined {
    const m = this.metas.get(id);
    return m && this.d.now() - m.checkedAt < this.d.ttlMs ? m : undefined;
  }

  private async ask(ref: ObjectRef, want: { method: 'GET' | 'HEAD'; block: number }): Promise<MetaOutcome> {
    const { store } = this.d;
    const object = store.objectHash(ref.id);
    const known = this.metas.get(ref.id) ?? (await store.readMeta(object))?.meta;
    const cachedBlock =
      known !== undefined && store.has(store.blockKey(object, store.versionHash(known.version), want.block));
    if (want.method === 'HEAD' || cachedBlock) {
      const out = await this.head(ref, known);
      // A GET whose object is gone or forbidden: ask with a GET to relay the origin's error body.
      if (want.method === 'HEAD' || out.kind !== 'answer') return out;
      out.res.resume();
    }
    const r = blockRange(want.block, this.d.blockSize, Number.MAX_SAFE_INTEGER);
    let res: IncomingMessage;
    try {
      res = await this.d.client.send(
        'GET',
        await ref.request('GET', { range: `bytes=${r.start}-${r.end}` }),
        ref.origin,
      );
    } catch (err) {
      return this.staleOr(ref, known, err);
    }
    const status = res.statusCode ?? 0;
    if (status === 206 || status === 200) {
      const meta = metaFromAnswer(status, res.headers, this.d.now());
      const startsRight =
        status === 206
          ? new RegExp(`^bytes ${r.start}-`).test(res.headers['content-range'] ?? '')
          : want.block === 0;
      // 200 to a ranged GET: the origin ignores ranges, fine only if the object is one block.
      if (!meta || !startsRight || (status === 200 && meta.size > this.d.blockSize)) {
        res.destroy();
        this.markUncacheable(ref.id);
        return { kind: 'uncacheable' };
      }
      this.adopt(ref, meta, known);
      return { kind: 'meta', meta, first: { n: want.block, res } };
    }
    if (status === 416) {
      // An empty object, or one shorter than the reader thought: a HEAD says which.
      res.resume();
      return this.head(ref, known);
    }
    return this.answer(ref, res, known);
  }

  private async head(ref: ObjectRef, known: ObjectMeta | undefined): Promise<MetaOutcome> {
    let res: IncomingMessage;
    try {
      res = await this.d.client.send('HEAD', await ref.request('HEAD', {}), ref.origin);
    } catch (err) {
      return this.staleOr(ref, known, err);
    }
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      res.resume();
      const meta = metaFromAnswer(200, res.headers, this.d.now());
      if (!meta) return { kind: 'answer', res };
      this.adopt(ref, meta, known);
      return { kind: 'meta', meta };
    }
    return this.answer(ref, res, known);
  }

  /** An error status: a 404 drops the object; a 5xx serves an expired version if there is one. */
  private answer(ref: ObjectRef, res: IncomingMessage, known: ObjectMeta | undefined): MetaOutcome {
    const status = res.statusCode ?? 0;
    if (status === 404) this.forget(ref.id, { blocks: true });
    if (status >= 500 && known) {
      res.resume();
      return this.staleOr(ref, known, new Error(`HTTP ${status}`));
    }
    return { kind: 'answer', res };
  }

  private markUncacheable(id: string): void {
    this.uncacheable.set(id, this.d.now() + this.d.ttlMs);
    if (this.uncacheable.size > META_ENTRIES) {
      const oldest = this.uncacheable.keys().next().value;
      if (oldest !== undefined) this.uncacheable.delete(oldest);
    }
  }

  private staleOr(ref: ObjectRef, known: ObjectMeta | undefined, err: unknown): MetaOutcome {
    const unreachable =
      err instanceof OriginUnreachableError ? err : new OriginUnreachableError(ref.origin, err);
    if (!known) throw unreachable;
    this.d.stats.staleServed++;
    const meta = { ...known, checkedAt: this.d.now() - this.d.ttlMs + STALE_GRACE_MS };
    this.remember(ref.id, meta);
    return { kind: 'meta', meta, stale: unreachable };
  }

  /** Takes a version the origin just confirmed; a new one drops the old one's blocks. */
  private adopt(ref: ObjectRef, meta: ObjectMeta, known: ObjectMeta | undefined): void {
    if (known && known.version !== meta.version) {
      this.d.stats.versionChanges++;
      this.d.store.dropObject(this.d.store.objectHash(ref.id));
    }
    this.remember(ref.id, meta);
  }

  private remember(id: string, meta: ObjectMeta): void {
    this.metas.delete(id);
    this.metas.set(id, meta);
    if (this.metas.size > META_ENTRIES) {
      const oldest = this.metas.keys().next().value;
      if (oldest !== undefined) this.metas.delete(oldest);
    }
  }
}
