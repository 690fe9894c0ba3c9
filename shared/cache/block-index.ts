// The in-memory index of the blocks on disk: which complete blocks exist, their sizes, the version
// each object's blocks belong to, and the least-recently-used order that eviction follows. Pure
// bookkeeping (BlockStore does the file work), so the eviction rules are testable without a disk.

export interface BlockEntry {
  /** Path under the blocks directory: `<object hash[0:2]>/<object hash>/<version hash>.<n>`. */
  key: string;
  object: string;
  /** File size (header included). */
  bytes: number;
  /** True once the checksum was checked in this process (or the block was written by it). */
  verified: boolean;
}

interface ObjectEntry {
  /** The version hash the object's blocks (and its meta file) belong to. */
  version: string;
  /** When the origin confirmed that version (a block of an older sighting never replaces it). */
  seenAt: number;
  metaBytes: number;
  blocks: Set<string>;
}

export class BlockIndex {
  /** Complete blocks, least recently used first (a Map keeps insertion order; touch re-inserts). */
  private readonly lru = new Map<string, BlockEntry>();
  private readonly objects = new Map<string, ObjectEntry>();
  private total = 0;

  /** Bytes of blocks and meta files. */
  get bytes(): number {
    return this.total;
  }

  get blockCount(): number {
    return this.lru.size;
  }

  get objectCount(): number {
    return this.objects.size;
  }

  get(key: string): BlockEntry | undefined {
    return this.lru.get(key);
  }

  /** Marks a block as just used. */
  touch(key: string): void {
    const e = this.lru.get(key);
    if (!e) return;
    this.lru.delete(key);
    this.lru.set(key, e);
  }

  /** The version hash an object's blocks belong to, when it has an entry. */
  versionOf(object: string): string | undefined {
    return this.objects.get(object)?.version;
  }

  /** When the origin confirmed the version the object's blocks belong to. */
  seenAt(object: string): number | undefined {
    return this.objects.get(object)?.seenAt;
  }

  /** Records an object's version and meta file size (its blocks are added with add()). */
  setObject(object: string, version: string, metaBytes: number, seenAt = 0): void {
    const o = this.objects.get(object);
    if (o) {
      this.total += metaBytes - o.metaBytes;
      o.metaBytes = metaBytes;
      o.version = version;
      o.seenAt = seenAt;
    } else {
      this.objects.set(object, { version, seenAt, metaBytes, blocks: new Set() });
      this.total += metaBytes;
    }
  }

  /** Adds (or replaces) a complete block; its object must have an entry. */
  add(e: BlockEntry): void {
    const o = this.objects.get(e.object);
    if (!o) throw new Error(`block ${e.key} added before its object`);
    this.remove(e.key);
    this.lru.set(e.key, e);
    o.blocks.add(e.key);
    this.total += e.bytes;
  }

  remove(key: string): BlockEntry | undefined {
    const e = this.lru.get(key);
    if (!e) return undefined;
    this.lru.delete(key);
    this.objects.get(e.object)?.blocks.delete(key);
    this.total -= e.bytes;
    return e;
  }

  blocksOf(object: string): string[] {
    return [...(this.objects.get(object)?.blocks ?? [])];
  }

  /** True when the object has an entry but no blocks left. */
  isEmptyObject(object: string): boolean {
    const o = this.objects.get(object);
    return o !== undefined && o.blocks.size === 0;
  }

  /** Forgets an object and its blocks; returns the blocks' entries. */
  dropObject(object: string): BlockEntry[] {
    const o = this.objects.get(object);
    if (!o) return [];
    const gone = [...o.blocks].map((k) => this.remove(k)).filter((e): e is BlockEntry => e !== undefined);
    this.total -= o.metaBytes;
    this.objects.delete(object);
    return gone;
  }

  /**
   * Takes the least recently used blocks out of the index until `incoming` more bytes fit under
   * `limit`, and returns them (the caller deletes their files). Stops when nothing is left.
   */
  evictFor(incoming: number, limit: number): BlockEntry[] {
    const out: BlockEntry[] = [];
    for (const key of this.lru.keys()) {
      if (this.total + incoming <= limit) break;
      const e = this.remove(key);
      if (e) out.push(e);
    }
    return out;
  }

  /** Every object id with an entry. */
  objectIds(): string[] {
    return [...this.objects.keys()];
  }
}
