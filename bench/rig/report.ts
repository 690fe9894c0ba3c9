// What every benchmark report starts with (so a figure can be traced to a commit and a load) and
// the summary table it ends with.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { REPO_ROOT } from './daemons.ts';

export function describeRun(): string {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--untracked-files=no') ? ' + uncommitted changes' : '';
  const version = spawnSync(process.execPath, ['bin/sluice.js', '--version'], {
    cwd: REPO_ROOT,
    env: { ...process.env, SLUICE_DEBUG: '1' },
    encoding: 'utf8',
  });
  const code = /running the build in dist/.test(version.stderr ?? '')
    ? 'dist/ (compiled)'
    : 'the TypeScript via tsx (`npm run build` to time dist/)';
  return [
    `# ${new Date().toISOString().slice(0, 16)}Z, commit ${commit}${dirty}`,
    `# ${cpus().length} cores, Node ${process.version}, load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; sluice runs ${code}`,
  ].join('\n');
}

export interface SummaryRow {
  what: string;
  baseline: string;
  /** Medians in seconds and baseline/sluice, or why the row did not run. */
  result: { sluice: number; base: number; ratio: number; loads: number[] } | { skipped: string };
}

export function summaryTable(rows: SummaryRow[]): string {
  const lines = [
    '| what | baseline | sluice (s) | baseline (s) | ratio | load |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    const b = `\`${r.baseline.replace(/\|/g, '\\|')}\``;
    if ('skipped' in r.result) lines.push(`| ${r.what} | ${b} | | | ${r.result.skipped} | |`);
    else {
      const { sluice, base, ratio, loads } = r.result;
      const range = `${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`;
      lines.push(
        `| ${r.what} | ${b} | ${sluice.toFixed(2)} | ${base.toFixed(2)} | **${ratio.toFixed(2)}×** | ${range} |`,
      );
    }
  }
  return lines.join('\n');
}
