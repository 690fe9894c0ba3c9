// What a backend hands the engine: its port implementations. The embedded backend (SQLite, local
// disk) and the AWS backend (DynamoDB, SQS, S3) each build one of these; assembleEngine() builds
// the same engine from either.
import type { BuiltinAlgorithm } from '../ports/builtin-algorithm.ts';
import type { Clock } from '../ports/clock.ts';
import type { JobReader, JobStore } from '../ports/jobs.ts';
import type { Notifier } from '../ports/notifier.ts';
import type { Registry } from '../ports/registry.ts';
import type { TaskQueue } from '../ports/task-queue.ts';
import type { TaskStore } from '../ports/tasks.ts';

export interface EnginePorts {
  jobs: JobStore;
  /**
   * Reads of a job for decisions that write nothing to the job itself (retry of a task, whether
   * an outcome changes more than a counter, what a worker runs). May be a few hundred ms stale.
   */
  jobReads: JobReader;
  tasks: TaskStore;
  registry: Registry;
  queue: TaskQueue;
  notifier: Notifier;
  clock: Clock;
  builtins: ReadonlyMap<string, BuiltinAlgorithm>;
}
