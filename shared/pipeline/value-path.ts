// Reads `a.b.0.c` paths out of JSON values exactly as HKube does (object-path's `get`): object keys
// are own properties only (so `__proto__` and friends are never reached); on an array or a string,
// `length` is its length and a canonical index (`0`, `12`, not `01` or `+1`) picks an element or a
// character.

export type PathLookup = { found: true; value: unknown } | { found: false };

/** object-path turns a segment into an index only when it prints back the same: `01` stays a key. */
const CANONICAL_INDEX = /^(0|[1-9]\d*)$/;

function step(value: unknown, segment: string): PathLookup {
  if (Array.isArray(value) || typeof value === 'string') {
    if (segment === 'length') return { found: true, value: value.length };
    if (!CANONICAL_INDEX.test(segment)) return { found: false };
    const index = Number(segment);
    if (index >= value.length) return { found: false };
    return { found: true, value: value[index] };
  }
  if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) {
    return { found: true, value: (value as Record<string, unknown>)[segment] };
  }
  return { found: false };
}

export function lookupPath(root: unknown, path: readonly string[]): PathLookup {
  let value = root;
  for (const segment of path) {
    const next = step(value, segment);
    if (!next.found) return next;
    value = next.value;
  }
  return { found: true, value };
}

/** The value at `path`, or null when any segment is missing (run-time semantics). */
export function valueAtPath(root: unknown, path: readonly string[]): unknown {
  const lookup = lookupPath(root, path);
  return lookup.found ? (lookup.value ?? null) : null;
}
