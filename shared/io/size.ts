// Human sizes for flags like --max-memory 512M or --chunk-size 8MiB (powers of 1024).
import { ValidationError } from '../errors.ts';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

export function parseSize(text: string, field = 'size'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(String(text));
  if (!m) throw new ValidationError(`${field} must be a size like 64M, 1G or 1048576 (got "${text}")`, field);
  const n = Number(m[1]) * (UNITS[(m[2] ?? '').toLowerCase()] ?? 1);
  if (!Number.isFinite(n) || n <= 0)
    throw new ValidationError(`${field} must be positive (got "${text}")`, field);
  return Math.floor(n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
