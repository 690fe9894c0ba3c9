// Typed errors of `sluice fetch`: each carries the URL or entry a user needs to act, and
// `retryable` tells the RangeFetcher which failures a new request can fix.
import { SluiceError } from '../../errors.ts';

/** Base of every fetch/extract failure. */
export class FetchError extends SluiceError {
  override name = 'FetchError';
  constructor(
    message: string,
    code = 'FETCH_ERROR',
    status = 502,
    options?: ErrorOptions & { retryable?: boolean },
  ) {
    super(message, code, status, options);
  }
}

/** The server answered with an HTTP status: 404/403 fail at once, 429/5xx are retried with back-off. */
export class HttpStatusError extends FetchError {
  override name = 'HttpStatusError';
  constructor(
    readonly url: string,
    readonly httpStatus: number,
    /** Seconds from a Retry-After header, when the server sent one. */
    readonly retryAfter?: number,
  ) {
    const why =
      httpStatus === 404
        ? 'not found (HTTP 404)'
        : httpStatus === 403
          ? 'access denied (HTTP 403)'
          : httpStatus === 401
            ? 'authentication required (HTTP 401)'
            : `HTTP ${httpStatus}`;
    const retryable = httpStatus === 429 || httpStatus === 408 || httpStatus >= 500;
    super(
      `${url}: ${why}`,
      httpStatus === 404 ? 'NOT_FOUND' : httpStatus === 403 ? 'ACCESS_DENIED' : 'HTTP_ERROR',
      httpStatus,
      {
        retryable,
      },
    );
  }
}

/** The object changed while it was being downloaded (ETag, Last-Modified or length differs). */
export class SourceChangedError extends FetchError {
  override name = 'SourceChangedError';
  constructor(url: string, detail: string) {
    super(
      `${url} changed during the download (${detail}); nothing after the change was used`,
      'OBJECT_CHANGED',
      409,
    );
  }
}

/** A connection failed, was reset, or stalled; the chunk is retried from its last received byte. */
export class TransferError extends FetchError {
  override name = 'TransferError';
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'TRANSFER_ERROR', 502, { ...options, retryable: true });
  }
}

/**
 * The host could not be reached at all: its name does not resolve (ENOTFOUND, EAI_AGAIN) or nothing listens
 * on the port (ECONNREFUSED). A retry would meet the same answer, so the download fails at once
 * (a mirror that fails this way is dropped).
 */
export class UnreachableError extends FetchError {
  override name = 'UnreachableError';
  constructor(url: string, detail: string, options?: ErrorOptions) {
    super(`${url}: ${detail}`, 'UNREACHABLE', 502, { ...options, retryable: false });
  }
}

/** The byte stream is not what it claims: corrupt compression, a bad tar header, a truncated archive. */
export class ArchiveError extends FetchError {
  override name = 'ArchiveError';
  constructor(message: string, code = 'BAD_ARCHIVE', options?: ErrorOptions) {
    super(message, code, 422, options);
  }
}

/** An archive entry that would be unsafe to extract (absolute name, `..`, escaping link, ...). */
export class UnsafeEntryError extends ArchiveError {
  override name = 'UnsafeEntryError';
  constructor(
    readonly entry: string,
    reason: string,
  ) {
    super(`refusing to extract "${entry}": ${reason}`, 'UNSAFE_ENTRY');
  }
}

/** The destination already has something where an entry goes and --overwrite was not given. */
export class DestinationExistsError extends FetchError {
  override name = 'DestinationExistsError';
  constructor(readonly path: string) {
    super(`${path} already exists (use --overwrite to replace existing files)`, 'DESTINATION_EXISTS', 409);
  }
}
