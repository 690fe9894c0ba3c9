// What a machine's worker pool may take, from the environment: SLUICE_CPUS (a number of CPUs) and
// SLUICE_MEMORY (a memory quantity, `16Gi`). Unset, the pool's defaults hold (pool-settings.ts).
import { ValidationError } from '../errors.ts';
import { memoryInMiB } from '../pipeline/memory-quantity.ts';
import type { WorkerPoolOptions } from '../runner/types.ts';

export function poolCapacityFromEnv(env: NodeJS.ProcessEnv): Pick<WorkerPoolOptions, 'cpus' | 'memoryMiB'> {
  const capacity: Pick<WorkerPoolOptions, 'cpus' | 'memoryMiB'> = {};
  const cpus = env.SLUICE_CPUS?.trim();
  if (cpus) {
    const value = Number(cpus);
    if (!(Number.isFinite(value) && value > 0))
      throw new ValidationError(`SLUICE_CPUS must be a number of CPUs > 0, not "${cpus}"`, 'SLUICE_CPUS');
    capacity.cpus = value;
  }
  const memory = env.SLUICE_MEMORY?.trim();
  if (memory) {
    const mib = memoryInMiB(memory);
    if (mib === undefined || mib <= 0)
      throw new ValidationError(
        `SLUICE_MEMORY must be a memory quantity such as 16Gi or 512Mi, not "${memory}"`,
        'SLUICE_MEMORY',
      );
    capacity.memoryMiB = mib;
  }
  return capacity;
}
