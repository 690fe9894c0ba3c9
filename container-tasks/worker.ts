// The worker container task (ECS Fargate, sharing EFS): the worker handler run through the same
// runner shape as a Lambda (runContainerTask: event from SLUICE_TASK_EVENT, a context whose
// signal fires on SIGTERM, exit 0/1). Tasks run in the local WorkerPool: built-ins and user
// algorithms, `SLUICE_WORKER_SLOTS` at a time (default: CPU count), code cache on EFS.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AWS_ENV, DEFAULT_SHARED_VOLUME, numberEnv } from '../shared/adapters/aws/config.ts';
import { WorkerPool } from '../shared/runner/worker-pool.ts';
import { AwsEngine } from '../shared/runtime/aws/aws-engine.ts';
import { runContainerTask, type TaskContext } from '../shared/runtime/aws/container-task.ts';
import { startWorker } from '../shared/runtime/aws/worker.ts';

export async function handler(_event: unknown, context: TaskContext): Promise<void> {
  const env = process.env;
  const slots = numberEnv(env, 'workerSlots', availableParallelism());
  const volume = env[AWS_ENV.sharedVolumePath] ?? DEFAULT_SHARED_VOLUME;
  const runner = new WorkerPool({ maxWorkers: slots, cacheDir: join(volume, 'cache') });
  const engine = AwsEngine.fromEnv(env);
  const worker = startWorker(engine, { runner, slots }, context.signal);
  await worker.done;
  await runner.close();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  void runContainerTask('sluice-worker', handler);
}
