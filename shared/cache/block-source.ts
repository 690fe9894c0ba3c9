// Where a block of an object version is read from: its complete file, a fetch already in flight
// (joined, never duplicated), or a new fetch. Fetches are bounded (origin fetch slots; read-ahead
// only takes a free one). A disk that cannot take a block switches the cache to passing reads
// through for a while, said once in the log; readers are never failed for it.
import type { FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { BlockFetch } from './block-fetch.ts';
import type { BlockStore } from './block-store.ts';
import { DISK_RETRY_MS } from './constants.ts';
import { BlockStoreError, OriginAnswerError, VersionChangedError } from './errors.ts';
import { answerMatches } from './object-meta.ts';
import type { OriginClient } from './origin-client.ts';
import type { ObjectRef } from './origins.ts';
import { blockLength, blockRange } from './range.ts';
import type { CacheStats, Log, ObjectMeta } from './types.ts';

export type BlockHandle =
  | { kind: 'file'; fh: FileHandle }
  /** Acquired for the caller: release() it when done. */
  | { kind: 'fetch'; fetch: BlockFetch }
  /** Not storable now (full disk): read the range from the origin. */
  | { kind: 'direct' };

export interface BlockSourceDeps {
  store: BlockStore;
  client: OriginClient;
  stats: CacheStats;
  log: Log;
  blockSize: number;
  originFetches: number;
  now: () => number;
  /** Told when an origin answers with another version than the reader's. */
  onVersionChanged: (id: string) => void;
}

export class BlockSource {
  private readonly inflight = new Map<string, BlockFetch>();
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private degradedUntil = 0;
  private readonly told = new Set<string>();

  constructor(private readonly d: BlockSourceDeps) {}

  /** True while a full (or failing) disk makes the cache pass reads through. */
  get degraded(): boolean {
    return this.d.now() < this.degradedUntil;
  }

  private key(ref: ObjectRef, meta: ObjectMeta, n: number): string {
    const { store } = this.d;
    return store.blockKey(store.objectHash(ref.id), store.versionHash(meta.version), n);
  }

  /** True when block `n` is complete on disk. */
  isCached(ref: ObjectRef, meta: ObjectMeta, n: number): boolean {
    return this.d.store.has(this.key(ref, meta, n));
  }

  async get(ref: ObjectRef, meta: ObjectMeta, n: number): Promise<BlockHandle> {
    const key = this.key(ref, meta, n);
    let f = this.inflight.get(key);
    if (!f && this.d.store.has(key)) {
      const fh = await this.d.store.openBlock(key, n, meta);
      if (fh) {
        this.d.stats.hits++;
        return { kind: 'file', fh };
      }
      f = this.inflight.get(key);
    }
    if (f) {
      this.d.stats.coalesced++;
      f.acquire();
      return { kind: 'fetch', fetch: f };
    }
    if (this.degraded) return { kind: 'direct' };
    this.d.stats.misses++;
    const fetch = this.start(ref, meta, n, key);
    fetch.acquire();
    return { kind: 'fetch', fetch };
  }

  /** Stores block `n` from an answer already received (the request that learnt the version). */
  adopt(ref: ObjectRef, meta: ObjectMeta, n: number, res: IncomingMessage): void {
    const key = this.key(ref, meta, n);
    if (this.inflight.has(key) || this.d.store.has(key)) {
      res.destroy();
      return;
    }
    this.d.stats.misses++;
    this.start(ref, meta, n, key, res);
  }

  /** Starts fetching block `n` ahead of a reader, if it is missing and a fetch slot is free. */
  prefetch(ref: ObjectRef, meta: ObjectMeta, n: number): void {
    if (this.degraded || this.active >= this.d.originFetches) return;
    const key = this.key(ref, meta, n);
    if (this.inflight.has(key) || this.d.store.has(key)) return;
    this.d.stats.readAheads++;
    this.start(ref, meta, n, key);
  }

  private start(ref: ObjectRef, meta: ObjectMeta, n: number, key: string, res?: IncomingMessage): BlockFetch {
    const length = blockLength(n, this.d.blockSize, meta.size);
    const fetch = new BlockFetch(key, n, length, ref.origin, this.d.stats);
    this.inflight.set(key, fetch);
    void this.run(fetch, ref, meta, res).finally(() => {
      if (this.inflight.get(key) === fetch) this.inflight.delete(key);
      fetch.release();
    });
    return fetch;
  }

  private async run(
    fetch: BlockFetch,
    ref: ObjectRef,
    meta: ObjectMeta,
    given?: IncomingMessage,
  ): Promise<void> {
    const { store } = this.d;
    const object = store.objectHash(ref.id);
    let temp: Awaited<ReturnType<BlockStore['createTemp']>> | undefined;
    if (!given) await this.slot();
    try {
      temp = await store.createTemp(object, store.versionHash(meta.version), fetch.block);
      fetch.attach(temp);
      const res = given ?? (await this.request(ref, meta, fetch.block));
      if (given && !answerMatches(given.statusCode ?? 0, given.headers, meta)) {
        given.destroy();
        throw new VersionChangedError(ref.id);
      }
      await fetch.receive(res, temp);
      // Readers have every byte already; storing it is the cache's business.
      const kept = await store.commit(temp.path, object, fetch.block, ref.id, meta);
      if (kept) temp = undefined;
    } catch (err) {
      given?.destroy();
      const e = err instanceof Error ? err : new Error(String(err));
      // A missing file or directory is a race with a drop of the object, not a disk in trouble.
      if (e instanceof BlockStoreError && (e.cause as NodeJS.ErrnoException)?.code !== 'ENOENT')
        this.diskTrouble(e);
      if (e instanceof VersionChangedError) this.d.onVersionChanged(ref.id);
      fetch.fail(e);
    } finally {
      if (temp) await store.discard(temp.path);
      if (!given) this.freeSlot();
    }
  }

  /** The ranged GET of one block, checked to be that block of that version. */
  private async request(ref: ObjectRef, meta: ObjectMeta, n: number): Promise<IncomingMessage> {
    const r = blockRange(n, this.d.blockSize, meta.size);
    const headers: Record<string, string> = { range: `bytes=${r.start}-${r.end}` };
    if (ref.s3 && meta.etag) headers['if-match'] = meta.etag;
    const res = await this.d.client.send('GET', await ref.request('GET', headers), ref.origin);
    checkBlockAnswer(res, ref, meta, r);
    return res;
  }

  private diskTrouble(e: BlockStoreError): void {
    this.degradedUntil = this.d.now() + DISK_RETRY_MS;
    const what = e.diskFull ? 'disk full' : 'disk error';
    if (this.told.has(what)) return;
    this.told.add(what);
    this.d.log(
      `cache: ${what} (${e.message}); passing reads through uncached, trying to store again every ${DISK_RETRY_MS / 1000} s`,
    );
  }

  private slot(): Promise<void> {
    if (this.active < this.d.originFetches) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((r) => this.slotWaiters.push(r));
  }

  private freeSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * Throws unless `res` is the asked range of `meta`'s version: another version (or a 412 to
 * If-Match, or a 404) means the object changed; any other status is the origin's failure.
 */
export function checkBlockAnswer(
  res: IncomingMessage,
  ref: ObjectRef,
  meta: ObjectMeta,
  r: { start: number; end: number },
): void {
  const status = res.statusCode ?? 0;
  const whole = status === 200 && r.start === 0 && r.end === meta.size - 1;
  if ((status === 206 || whole) && answerMatches(status, res.headers, meta)) {
    if (whole || new RegExp(`^bytes ${r.start}-${r.end}/`).test(res.headers['content-range'] ?? '')) return;
    res.destroy();
    throw new OriginAnswerError(
      ref.origin,
      `answered ${res.headers['content-range']} to a request for ${r.start}-${r.end}`,
    );
  }
  res.resume();
  if (status === 412 || status === 404 || status === 200 || status === 206)
    throw new VersionChangedError(ref.id);
  throw new OriginAnswerError(ref.origin, `answered HTTP ${status} to a block request`);
}
