// The figures both dispatch benchmarks (embedded, AWS) report for one run of a `#[1...N]` echo
// batch plus a reduce, and the median the suites take over their rounds.

export interface DispatchFigures {
  status: string;
  tasks: number;
  seconds: number;
  tasksPerSecond: number;
  p50ReadyToStartedMs: number;
  p99ReadyToStartedMs: number;
  /** How many item results the reduce saw (must be N). */
  reducedItems: number;
}

/** `latenciesMs`: ready→started of every batch item; `results`: the job's stored results. */
export function dispatchFigures(run: {
  status: string;
  items: number;
  seconds: number;
  latenciesMs: number[];
  results: unknown;
}): DispatchFigures {
  const lat = [...run.latenciesMs].sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0;
  const reduced = (run.results as { result?: unknown[] }[] | undefined)?.[0]?.result?.[0];
  return {
    status: run.status,
    tasks: run.items + 1,
    seconds: run.seconds,
    tasksPerSecond: (run.items + 1) / run.seconds,
    p50ReadyToStartedMs: pct(50),
    p99ReadyToStartedMs: pct(99),
    reducedItems: Array.isArray(reduced) ? reduced.length : 0,
  };
}

export function median<T>(xs: T[], f: (x: T) => number): number {
  return xs.map(f).sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}
