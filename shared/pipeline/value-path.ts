// Reads `a.b.0.c` paths out of JSON values: object keys (own properties only, so `__proto__` and
// friends are never reached) and numeric segments as array indexes.

export type PathLookup = { found: true; value: unknown } | { found: false };

export function lookupPath(root: unknown, path: readonly string[]): PathLookup {
  let value = root;
  for (const segment of path) {
    if (Array.isArray(value)) {
      if (!/^\d+$/.test(segment)) return { found: false };
      const index = Number(segment);
      if (index >= value.length) return { found: false };
      value = value[index];
    } else if (value !== null && typeof value === 'object' && Object.hasOwn(value, segment)) {
      value = (value as Record<string, unknown>)[segment];
    } else {
      return { found: false };
    }
  }
  return { found: true, value };
}

/** The value at `path`, or null when any segment is missing (run-time semantics). */
export function valueAtPath(root: unknown, path: readonly string[]): unknown {
  const lookup = lookupPath(root, path);
  return lookup.found ? (lookup.value ?? null) : null;
}
