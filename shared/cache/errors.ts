// Typed errors of the read-through cache: each carries what the answer to the reader needs (the
// origin to name in a 502, the object whose version changed, the disk error that switches to
// pass-through).
import { SluiceError } from '../errors.ts';

export class CacheError extends SluiceError {
  override name = 'CacheError';
  constructor(message: string, code = 'CACHE_ERROR', status = 500, options?: ErrorOptions) {
    super(message, code, status, options);
  }
}

/** The origin could not be reached or broke off (connection refused, DNS, reset, silence). */
export class OriginUnreachableError extends CacheError {
  override name = 'OriginUnreachableError';
  constructor(
    readonly origin: string,
    cause: unknown,
  ) {
    const why = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message ?? String(cause);
    super(`origin ${origin} unreachable (${why})`, 'ORIGIN_UNREACHABLE', 502, { cause });
  }
}

/** The origin answered a block request with something other than that block of that version. */
export class OriginAnswerError extends CacheError {
  override name = 'OriginAnswerError';
  constructor(
    readonly origin: string,
    message: string,
  ) {
    super(`origin ${origin}: ${message}`, 'ORIGIN_ANSWER', 502);
  }
}

/** The object changed at its origin while it was being read: the reader must start over. */
export class VersionChangedError extends CacheError {
  override name = 'VersionChangedError';
  constructor(readonly objectId: string) {
    super(`${objectId} changed at its origin while it was read`, 'VERSION_CHANGED', 502);
  }
}

/** A block could not be stored (full disk, permissions...): readers go to the origin instead. */
export class BlockStoreError extends CacheError {
  override name = 'BlockStoreError';
  constructor(
    message: string,
    readonly diskFull: boolean,
    cause: unknown,
  ) {
    super(message, 'BLOCK_STORE', 500, { cause });
  }
}

/** Another live cache server uses the directory. */
export class CacheDirInUseError extends CacheError {
  override name = 'CacheDirInUseError';
  constructor(
    readonly dir: string,
    readonly pid: number,
    readonly url: string | undefined,
  ) {
    super(
      `${dir} is in use by the cache server with pid ${pid}${url ? ` (${url})` : ''}`,
      'CACHE_DIR_IN_USE',
      409,
    );
  }
}

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL.has((err as NodeJS.ErrnoException)?.code ?? '');
}
