// How values look on the page: statuses in words and symbols (never colour alone), times in the
// browser's zone, durations and rates short.

const SYMBOL: Record<string, string> = {
  pending: '○',
  queued: '○',
  active: '▶',
  running: '▶',
  completed: '✓',
  succeeded: '✓',
  failed: '✗',
  stopped: '■',
  skipped: '↷',
};

export const FINAL = ['completed', 'failed', 'stopped'];

export function statusLabel(status: string): string {
  return `${SYMBOL[status] ?? '•'} ${status}`;
}

export function localTime(iso?: string): string {
  return iso ? new Date(iso).toLocaleString() : '—';
}

export function duration(ms?: number): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

export function since(startIso?: string, endIso?: string): number | undefined {
  if (!startIso) return undefined;
  return (endIso ? Date.parse(endIso) : Date.now()) - Date.parse(startIso);
}

/** A value for a preview: JSON, cut at `max` characters. */
export function preview(value: unknown, max = 2000): { text: string; cut: boolean } {
  const text = value === undefined ? '—' : JSON.stringify(value, null, 2);
  return text.length > max ? { text: `${text.slice(0, max)}…`, cut: true } : { text, cut: false };
}

/** A link that downloads `value` as a JSON file (made in the browser, nothing fetched). */
export function jsonDownloadUrl(value: unknown): string {
  return URL.createObjectURL(new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' }));
}
