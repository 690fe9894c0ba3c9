// Defaults of the bulk IO commands, each with the reason for its value.

/**
 * Operations in flight (`-j`). On a volume 20 ms away, N concurrent requests give ~Nx the
 * throughput of one (measured: 64 -> 0.63 s, 128 -> 0.40 s for 500 files through latfs); on a
 * local SSD it costs nothing measurable. bin/sluice.js sizes the libuv threadpool to match.
 */
export const DEFAULT_JOBS = 128;

/**
 * libuv threads for a process that runs file calls on network volumes: each of -j calls in flight
 * holds a thread while it waits. libuv sizes its pool once, when first used, from
 * UV_THREADPOOL_SIZE, so every entry point sets it before starting: bin/sluice.js (per command
 * line, cli/threadpool.ts) and the worker image (container-tasks/Dockerfile).
 */
export const NETWORK_VOLUME_THREADS = 256;

/** Bytes of file data held in memory at once (`--max-memory`): buffers of files in flight. */
export const DEFAULT_MAX_MEMORY = 256 * 1024 ** 2;

/**
 * Files up to this size are read with one buffer and one read call (fewest round trips); larger
 * files are streamed in chunks, so no file is ever held whole.
 */
export const WHOLE_FILE_MAX = 8 * 1024 ** 2;

/** Chunk of a streamed (large) file: one positional read, one multipart part. */
export const CHUNK_SIZE = 8 * 1024 ** 2;

/**
 * Chunks of one large file read at once. Kernel readahead keeps only ~2 requests in flight on a
 * network volume whatever the tool; reads at several offsets at once are what goes faster.
 */
export const CHUNKS_IN_FLIGHT = 4;

/** Listed-but-not-started file operations above which the walker pauses listing (backpressure). */
export const MAX_QUEUED_TASKS = 50_000;

/**
 * A chunk is read as pieces of this size at once: each read call keeps only ~2 requests of
 * 128 KiB in flight on FUSE/NFS, so 8 pieces x 4 chunks give ~64 (measured on latfs: 2 GiB in
 * 48 s with whole-chunk reads, max_inflight=8).
 */
export const READ_PIECE = 1024 * 1024;

/** S3 answers at most 1000 keys per ListObjectsV2 page. */
export const MAX_LIST_PAGE = 1000;

/** S3 DeleteObjects takes at most 1000 keys per request. */
export const DELETE_BATCH = 1000;

/**
 * Operations in flight on a local disk (local-fs.ts, direct mode): each has at most one data
 * transfer on the threadpool while this thread makes the metadata calls of the others. More than
 * the threads (bin/sluice.js gives a local-disk command one per core), so none sits idle and
 * waking it is never paid for (cli/threadpool.ts).
 */
export const DIRECT_JOBS = 16;

/**
 * File data `zip` reads ahead of its writer on a local disk (direct mode): enough to keep the
 * threadpool busy, small enough that the read buffers are reused instead of freshly allocated.
 * Must hold a whole small file (WHOLE_FILE_MAX).
 */
export const DIRECT_READ_AHEAD = 16 * 1024 ** 2;

/**
 * With direct (synchronous) file calls on a local disk, the pool steps out to the event loop this
 * often, so the progress line is drawn and Ctrl-C is handled during a long operation.
 */
export const DIRECT_YIELD_MS = 50;
