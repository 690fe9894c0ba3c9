// What one process of the pool takes from the machine: CPUs and memory. An algorithm's `cpu` and
// `mem` say it; without them a process counts as one CPU and no memory, so a pool of algorithms that
// declare nothing is bounded by its slot count alone, exactly as before sizes were accounted.
import { memoryInMiB } from '../pipeline/memory-quantity.ts';
import type { AlgorithmDefinition } from '../pipeline/types.ts';

export interface TaskSize {
  cpu: number;
  memMiB: number;
}

/** CPUs a process counts for when its algorithm declares no `cpu` (a builtin host counts the same). */
export const DEFAULT_TASK_CPU = 1;

export const DEFAULT_TASK_SIZE: TaskSize = Object.freeze({ cpu: DEFAULT_TASK_CPU, memMiB: 0 });

export function taskSize(def: Pick<AlgorithmDefinition, 'cpu' | 'mem'>): TaskSize {
  if (def.cpu === undefined && def.mem === undefined) return DEFAULT_TASK_SIZE;
  return {
    cpu: def.cpu ?? DEFAULT_TASK_CPU,
    memMiB: def.mem === undefined ? 0 : (memoryInMiB(def.mem) ?? 0),
  };
}

/** Why a task of this size can never start on a pool of this capacity, or undefined if it can. */
export function tooBigFor(
  name: string,
  size: TaskSize,
  capacity: { cpus: number; memoryMiB: number },
): string | undefined {
  if (size.cpu > capacity.cpus)
    return `algorithm '${name}' asks for cpu ${size.cpu}, more than this machine's worker pool has (${capacity.cpus} CPUs; SLUICE_CPUS sets it)`;
  if (size.memMiB > capacity.memoryMiB)
    return `algorithm '${name}' asks for mem ${Math.ceil(size.memMiB)}Mi, more than this machine's worker pool has (${Math.floor(capacity.memoryMiB)}Mi; SLUICE_MEMORY sets it)`;
  return undefined;
}
