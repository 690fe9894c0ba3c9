// Algorithms with an image in the worker pool: run through Docker or Podman (container-runtime.ts)
// when the pool runs images, else (the Fargate worker: `images: 'ignore'`) as plain processes.
import type { AlgorithmDefinition } from '../pipeline/types.ts';
import { taskLogs } from '../ports/task-logs.ts';
import type { TaskOutcome } from '../ports/task-runner.ts';
import { findContainerRuntime } from './container-runtime.ts';
import { failedOutcome } from './outcome.ts';
import type { PoolSettings } from './pool-settings.ts';

export class PoolImages {
  private found?: { path: string } | { error: string };

  constructor(private readonly settings: Pick<PoolSettings, 'images' | 'env'>) {}

  /** The definition as this pool runs it: without its image when the pool ignores images. */
  own(def: AlgorithmDefinition): AlgorithmDefinition {
    if (this.settings.images === 'run' || !def.image) return def;
    const { image: _ignored, ...local } = def;
    return local;
  }

  /** Docker or Podman, looked up once per pool; undefined when there is none. */
  runtime(): string | undefined {
    this.found ??= findContainerRuntime(this.settings.env);
    return 'path' in this.found ? this.found.path : undefined;
  }

  /** The failure of a task whose image cannot run here (no container runtime). */
  noRuntime(def: AlgorithmDefinition): TaskOutcome {
    const why = this.found && 'error' in this.found ? this.found.error : '';
    return failedOutcome(
      `algorithm '${def.name}' runs in image '${def.image}', but ${why}`,
      taskLogs(),
      [],
      'invalid-input',
    );
  }
}
