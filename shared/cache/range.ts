// Byte ranges: the reader's Range header against an object's size (RFC 9110 §14), and how a range
// maps onto the cache's fixed blocks. Pure functions.

/** Inclusive byte positions. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one range a Range header asks for, 'unsatisfiable' (answer 416), or undefined: the whole
 * object. Several ranges, bad syntax and other units are ignored (as RFC 9110 allows, and as S3
 * does); so is any range of an empty object, which has no bytes to select.
 */
export function parseRange(
  header: string | undefined,
  size: number,
): ByteRange | 'unsatisfiable' | undefined {
  if (!header || size === 0) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '') {
    if (b === '') return undefined;
    const suffix = Number(b);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  if (b !== '' && Number(b) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1 : Number(b);
  return { start, end: Math.min(end, size - 1) };
}

/** The block a request for this Range probably starts in, before the object's size is known. */
export function firstBlockHint(header: string | undefined, blockSize: number): number {
  const m = /^\s*bytes\s*=\s*(\d+)\s*-/i.exec(header ?? '');
  return m ? Math.floor(Number(m[1]) / blockSize) : 0;
}

/** Number of blocks of an object (an empty object has none). */
export function blockCount(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

/** The bytes of block `n`. */
export function blockRange(n: number, blockSize: number, size: number): ByteRange {
  const start = n * blockSize;
  return { start, end: Math.min(size, start + blockSize) - 1 };
}

/** Bytes in block `n`. */
export function blockLength(n: number, blockSize: number, size: number): number {
  const r = blockRange(n, blockSize, size);
  return r.end - r.start + 1;
}
