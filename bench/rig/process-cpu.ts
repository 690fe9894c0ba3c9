// CPU time per process from /proc (Linux): a snapshot of named processes and of every descendant
// of this one, and the difference of two snapshots. The end-to-end AWS benchmark reports with it
// where each task's CPU goes (functions, worker, Python hosts, each emulator), a figure that holds
// up better than wall time on a machine others load. Elsewhere than Linux it reports nothing.
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  cpuMs: number;
}

function stat(pid: number): ProcStat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields after it are fixed.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return { pid, ppid, cpuMs: (utime + stime) * TICK_MS };
  } catch {
    return undefined;
  }
}

function label(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // The script run, not a loader given to --import before it.
    const script = argv.filter((a) => /\.(ts|js|mjs|py)$/.test(a) && !a.startsWith('file:')).pop();
    return script ? (script.split('/').pop() ?? script) : (argv[0]?.split('/').pop() ?? String(pid));
  } catch {
    return String(pid);
  }
}

/** pid → [label, cpu ms] of `named` (label given) and of every descendant of this process. */
export function cpuSnapshot(named: Record<string, number> = {}): Map<number, [string, number]> {
  const all: ProcStat[] = [];
  if (process.platform !== 'linux') return new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    if (s) all.push(s);
  }
  const children = new Map<number, number[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  const byPid = new Map(all.map((s) => [s.pid, s]));
  const out = new Map<number, [string, number]>();
  for (const [name, pid] of Object.entries(named)) {
    const s = byPid.get(pid);
    if (s) out.set(pid, [name, s.cpuMs]);
  }
  const walk = (pid: number, name: string) => {
    const s = byPid.get(pid);
    if (s && !out.has(pid)) out.set(pid, [name, s.cpuMs]);
    for (const c of children.get(pid) ?? []) walk(c, label(c));
  };
  walk(process.pid, 'functions (this process)');
  return out;
}

/** CPU ms spent between two snapshots, summed per label (processes that ended in between are lost). */
export function cpuDelta(
  before: Map<number, [string, number]>,
  after: Map<number, [string, number]>,
): Record<string, number> {
  const sums: Record<string, number> = Object.create(null);
  for (const [pid, [name, ms]] of after) sums[name] = (sums[name] ?? 0) + ms - (before.get(pid)?.[1] ?? 0);
  return sums;
}
