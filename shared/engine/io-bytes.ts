// The bytes a built-in IO task moved, read from the summary it returns (cp, zip and rm return an
// IoSummary, fetch a FetchSummary or an array of them): what the workers page shows as IO bytes/s.
const IO_BUILTINS = new Set(['cp', 'zip', 'rm', 'fetch']);

const bytesOf = (v: unknown): number => {
  const b = (v as { bytes?: unknown } | null)?.bytes;
  return typeof b === 'number' && Number.isFinite(b) && b > 0 ? b : 0;
};

/** Undefined for other algorithms (their results are the user's, not a summary). */
export function ioBytesOf(algorithmName: string, result: unknown): number | undefined {
  if (!IO_BUILTINS.has(algorithmName)) return undefined;
  return Array.isArray(result) ? result.reduce((a: number, r) => a + bytesOf(r), 0) : bytesOf(result);
}
