// The `echo` built-in: its result is its resolved input array. The cheapest possible task, so it is
// what the engine's throughput figures (tasks/s end to end) are measured with.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';

export const echo: BuiltinAlgorithm = {
  name: 'echo',
  description: 'Returns its input array unchanged.',
  // Not CPU work: several may share one builtin-host slot, which lets the pool batch messages.
  ioBound: true,
  run: async (input) => input,
};
