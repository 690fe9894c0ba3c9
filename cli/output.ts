// Printing API answers: JSON when asked (or when the value has no table form), tables otherwise.
import type { CliContext } from './context.ts';

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printTable(ctx: CliContext, rows: Record<string, unknown>[], columns: string[]): void {
  if (rows.length === 0) {
    ctx.stdout.write('(none)\n');
    return;
  }
  const cell = (v: unknown) =>
    v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  ctx.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const r of rows) ctx.stdout.write(`${line(columns.map((c) => cell(r[c])))}\n`);
}
