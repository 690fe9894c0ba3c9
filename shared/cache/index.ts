// The read-through cache (`sluice cache`): what other parts of Sluice start and inspect.
export { clearCacheDir, type DirUsage, defaultCacheDir, dirUsage, liveServer } from './cache-dir.ts';
export { CACHE_DEFAULTS, MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from './constants.ts';
export { CacheDirInUseError, CacheError } from './errors.ts';
export type { S3Target, S3Upstream, UpstreamRequest } from './s3-upstream.ts';
export {
  type CacheServer,
  type CacheServerDeps,
  type CacheServerOptions,
  startCacheServer,
} from './server.ts';
export type { CacheStats, CacheStatsSnapshot, Log } from './types.ts';
