// Defaults of the read-through cache (`sluice cache serve`) and the fixed sizes of its disk format.
// Every default is documented next to the flag that overrides it (cli/commands/cache.ts, docs/cache.md).

const MiB = 1024 * 1024;

export const CACHE_DEFAULTS = {
  /** Bytes per cached block: big enough that per-block costs vanish, small enough for range reads. */
  blockSize: 8 * MiB,
  /** Upper bound of the cache directory (blocks being written come on top). */
  maxSize: 10 * 1024 * MiB,
  /** How long a HEAD answer or a listing is trusted before the origin is asked again. */
  metaTtlSeconds: 30,
  /** Blocks fetched ahead of a sequential reader (and in flight for one whole-object read). */
  readAhead: 4,
  /** Block fetches to origins in flight at once (read-ahead only starts below this). */
  originFetches: 32,
  host: '127.0.0.1',
  port: 0,
} as const;

/** The smallest and largest --block-size accepted. */
export const MIN_BLOCK_SIZE = 64 * 1024;
export const MAX_BLOCK_SIZE = 256 * MiB;

/** Every block file starts with this header (magic, checksum, length, block number). */
export const BLOCK_HEADER_BYTES = 32;
export const BLOCK_MAGIC = 'SLC1';

/** Bytes read from a block file per read call when serving it. */
export const SERVE_CHUNK = 1 * MiB;
/** An origin response is paused while this many received bytes wait to be written to disk. */
export const WRITE_BACKLOG = 1 * MiB;
/** Bytes of a block in flight kept in memory behind the newest byte, for readers keeping up. */
export const FOLLOW_WINDOW = 1 * MiB;

/** An origin that sends nothing for this long is treated as gone. */
export const ORIGIN_IDLE_MS = 60_000;
/** After a full disk, how long the cache passes reads through before it tries to store again. */
export const DISK_RETRY_MS = 60_000;

/** Object metadata kept in memory (least recently used dropped beyond). */
export const META_ENTRIES = 100_000;
/** Listings kept in memory: total bytes, and the largest one cached. */
export const LISTING_CACHE_BYTES = 32 * MiB;
export const LISTING_MAX_BYTES = 4 * MiB;

/** Files in a cache directory. */
export const DIR_MARKER = 'sluice-cache.json';
export const DIR_SERVER = 'server.json';
export const DIR_BLOCKS = 'blocks';
export const META_FILE = 'meta.json';
export const DIR_FORMAT = 1;
