// The worker container task (ECS Fargate, sharing EFS): the worker handler run through the same
// runner shape as a Lambda (runContainerTask: event from SLUICE_TASK_EVENT, a context whose
// signal fires on SIGTERM, exit 0/1). Tasks run in the local WorkerPool: built-ins and user
// algorithms, `SLUICE_WORKER_SLOTS` at a time (default: CPU count), code cache on EFS; user
// algorithms get neither the task role's credentials nor the worker's uid.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AWS_ENV, DEFAULT_SHARED_VOLUME, numberEnv } from '../shared/adapters/aws/config.ts';
import type { BuiltinAlgorithm } from '../shared/ports/builtin-algorithm.ts';
import type { TaskRunner } from '../shared/ports/task-runner.ts';
import { workerIsolation } from '../shared/runner/algorithm-isolation.ts';
import { WorkerPool } from '../shared/runner/worker-pool.ts';
import { awsConfigFromEnv } from '../shared/runtime/aws/aws-config.ts';
import { runContainerTask, type TaskContext } from '../shared/runtime/aws/container-task.ts';
import { uploadedCodeReader } from '../shared/runtime/aws/uploaded-code.ts';
import { startWorker } from '../shared/runtime/aws/worker.ts';
import { withDatasetCache } from '../shared/runtime/dataset-cache.ts';

export interface WorkerTaskDeps {
  env: NodeJS.ProcessEnv;
  /** The runner of `slots` tasks at once (default: the WorkerPool, code cache on the shared volume). */
  runner?: (slots: number, env: NodeJS.ProcessEnv) => TaskRunner;
  builtins?: ReadonlyMap<string, BuiltinAlgorithm>;
}

/**
 * The container's pool: code cache on the shared volume, the dataset cache on the task's own
 * ephemeral storage (SLUICE_CACHE_DIR, sized by the stack), and user algorithms without the task
 * role's credentials, as SLUICE_ALGORITHM_USER (algorithm-isolation.ts).
 */
export function workerPool(slots: number, env: NodeJS.ProcessEnv): WorkerPool {
  const volume = env[AWS_ENV.sharedVolumePath] ?? DEFAULT_SHARED_VOLUME;
  return new WorkerPool({
    maxWorkers: slots,
    // In an image algorithm's own task this container is its image; a generic worker runs image
    // algorithms locally where their own tasks are not switched on (docs/aws.md#algorithms-with-an-image).
    images: 'ignore',
    cacheDir: join(volume, 'cache'),
    fetchUploadedCode: uploadedCodeReader(env),
    env,
    isolation: workerIsolation(env),
    ...withDatasetCache(env),
  });
}

export function createWorkerHandler(deps: Partial<WorkerTaskDeps> = {}) {
  return async (_event: unknown, context: TaskContext): Promise<void> => {
    const env = deps.env ?? process.env;
    const slots = numberEnv(env, 'workerSlots', availableParallelism());
    const runner = (deps.runner ?? workerPool)(slots, env);
    const engine = {
      config: awsConfigFromEnv(env),
      env,
      ...(deps.builtins ? { builtins: deps.builtins } : {}),
    };
    const idleExitMs = numberEnv(env, 'idleExitSeconds', 0) * 1000;
    const worker = startWorker(
      engine,
      { runner, slots, ...(idleExitMs > 0 ? { idleExitMs } : {}) },
      context.signal,
    );
    await worker.done;
    await runner.close();
  };
}

export const handler = createWorkerHandler();

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  void runContainerTask('sluice-worker', handler);
}
