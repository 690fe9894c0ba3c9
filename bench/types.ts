// A benchmark suite: prints its figures (and ratios against baselines run in the same process
// tree) to stdout. Benchmarks are never tests: nothing here asserts a time.

export interface BenchSuite {
  name: string;
  description: string;
  /** Why it cannot run here (missing root, FUSE, a baseline tool), or undefined if it can. */
  unavailable?(): Promise<string | undefined>;
  run(args: string[]): Promise<void>;
}
