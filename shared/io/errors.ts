// Errors of the bulk IO operations. Per-item problems become IoItemError (reported in the summary,
// the operation goes on); bad arguments are ValidationError (shared/errors.ts) and stop it early;
// an algorithm whose items failed ends with IoFailuresError (the summary travels with it).
import { SluiceError } from '../errors.ts';
import type { IoSummary } from './types.ts';

/** One file or object could not be handled (it is listed among the summary's failures). */
export class IoItemError extends SluiceError {
  override name = 'IoItemError';
  constructor(message: string, code = 'IO_ITEM_FAILED') {
    super(message, code, 500);
  }
}

/** The operation refuses a target for safety (rm of /, copying a directory into itself). */
export class UnsafeTargetError extends SluiceError {
  override name = 'UnsafeTargetError';
  constructor(message: string) {
    super(message, 'UNSAFE_TARGET', 400);
  }
}

/** An s3:// source that names neither an object nor a non-empty prefix. */
export function noSuchPrefix(bucket: string, prefix: string): IoItemError {
  return new IoItemError(`no such object or prefix: s3://${bucket}/${prefix}`, 'NOT_FOUND');
}

/** Some items of a bulk IO algorithm failed; the rest was done. `summary` lists every failure. */
export class IoFailuresError extends SluiceError {
  override name = 'IoFailuresError';
  constructor(readonly summary: IoSummary) {
    const first = summary.failures
      .slice(0, 3)
      .map((f) => `${f.path}: ${f.message}`)
      .join('; ');
    const more = summary.failures.length > 3 ? ` (+${summary.failures.length - 3} more)` : '';
    super(
      `${summary.operation}: ${summary.failures.length} item(s) failed: ${first}${more}`,
      'IO_FAILURES',
      500,
      { retryable: true },
    );
  }

  override toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/**
 * A destination that cannot be written, as one line naming it (never the temp file written on
 * its behalf) and the cause: `cannot write /out/x.zip: directory /out does not exist`.
 */
export function cannotWrite(file: string, err: unknown): IoItemError {
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const dir = dirnameOf(file);
  const why =
    code === 'ENOENT'
      ? `directory ${dir} does not exist`
      : code === 'ENOTDIR'
        ? `a parent of ${file} is not a directory`
        : code === 'EACCES' || code === 'EPERM'
          ? `permission denied in ${dir}`
          : code === 'EISDIR'
            ? 'it is a directory'
            : code === 'ENOSPC'
              ? 'no space left on the device'
              : code === 'EROFS'
                ? 'read-only file system'
                : String(e?.message ?? err)
                    .replace(/^E[A-Z]+: /, '')
                    .replace(/, \w+ '.*'( -> '.*')?$/, '');
  const out = new IoItemError(`cannot write ${file}: ${why}`, code ?? 'OUTPUT_NOT_WRITABLE');
  return Object.assign(out, { cause: err, path: file });
}

/** An error for a code alone (a check that found the problem before any system call did). */
export function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(code), { code });
}

function dirnameOf(file: string): string {
  const i = file.replace(/\/+$/, '').lastIndexOf('/');
  return i <= 0 ? '/' : file.slice(0, i);
}
