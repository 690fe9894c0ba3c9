// Guards run before validation touches a document: a depth limit checked without recursion (so
// hostile input cannot overflow the stack) and a deep copy (so the caller's object is never changed).
import { MAX_DOCUMENT_DEPTH } from './constants.ts';
import { DescriptorValidationError } from './errors.ts';

/** True when `value` nests deeper than `limit` arrays/objects. */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

/** Depth-checked deep copy, so validation never mutates the caller's object or recurses unboundedly. */
export function cloneDocument(raw: unknown, what: string, code: string): unknown {
  if (nestsDeeperThan(raw, MAX_DOCUMENT_DEPTH)) {
    throw new DescriptorValidationError(
      [{ field: '', message: `the ${what} nests deeper than ${MAX_DOCUMENT_DEPTH} levels` }],
      code,
    );
  }
  try {
    return structuredClone(raw);
  } catch {
    throw new DescriptorValidationError(
      [{ field: '', message: `the ${what} must be plain JSON data` }],
      code,
    );
  }
}
