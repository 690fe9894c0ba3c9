// Times a candidate command against a baseline in the same run, alternating them (A B A B ...)
// so that drifting machine load hits both alike; prints each time with the load average, then
// the medians and the ratio baseline/candidate (> 1: the candidate is faster).
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';

export interface Pair {
  /** What is measured, e.g. "cp volume -> tmpfs". */
  what: string;
  candidate: string;
  baseline: string;
  /** Untimed, before every timed command (empty the destination, remount the volume...). */
  prep?: () => Promise<void> | void;
  runs: number;
}

export interface PairResult {
  candidate: number;
  baseline: number;
  ratio: number;
  loads: number[];
}

export interface ShellOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** Runs `cmd` with bash; returns seconds, or throws with the end of its output. */
export function timeShell(cmd: string, o: ShellOptions): number {
  const t0 = performance.now();
  const r = spawnSync('bash', ['-c', `set -euo pipefail; ${cmd}`], {
    env: o.env,
    cwd: o.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new Error(`exit ${r.status ?? r.signal}: ${cmd}\n${out}`);
  }
  return seconds;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const load = () => Number(loadavg()[0]!.toFixed(2));

export async function comparePair(p: Pair, o: ShellOptions, log = console.log): Promise<PairResult> {
  const times = { candidate: [] as number[], baseline: [] as number[] };
  const loads: number[] = [];
  log(`## ${p.what}\n#   candidate: ${p.candidate}\n#   baseline:  ${p.baseline}`);
  for (let run = 1; run <= p.runs; run++) {
    for (const which of ['candidate', 'baseline'] as const) {
      await p.prep?.();
      const s = timeShell(p[which], o);
      times[which].push(s);
      loads.push(load());
      log(`#   run ${run} ${which.padEnd(9)} ${s.toFixed(3)} s  (load ${load()})`);
    }
  }
  const candidate = median(times.candidate);
  const baseline = median(times.baseline);
  return { candidate, baseline, ratio: baseline / candidate, loads };
}
