// A built-in algorithm (echo, cp, zip, rm, fetch...): runs inside a worker process like a user
// algorithm, but as a function call. The engine registers them by name; `ioBound` ones may run
// several at once per worker so that a batch of copies overlaps.
import type { ObjectStores } from './object-store.ts';

export interface BuiltinContext {
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
  /** Captured per task, shown with the task's logs. */
  log(line: string): void;
  /**
   * Object stores for s3:// locations, handed in by whoever runs the algorithm (the built-in host
   * composes the AWS adapter's). Absent: an s3:// location fails the task with a ValidationError.
   */
  objectStores?: ObjectStores;
  /**
   * The read-through dataset cache this task reads through (`options.cache`), e.g.
   * `http://127.0.0.1:PORT`; `objectStores` then already point at it. http(s) URLs are read as
   * `${cacheUrl}/http(s)/HOST/PATH`.
   */
  cacheUrl?: string;
}

export interface BuiltinAlgorithm {
  name: string;
  description: string;
  ioBound: boolean;
  /**
   * Runs in the worker pool's own process, not in a builtin host: for a built-in that only starts
   * a process (make-recipe, through the process starter), where the host's round trip would cost
   * more than the task. It gets no `objectStores`. Its tasks share slots like io-bound ones
   * (`ioTasksPerHost` per slot). Must not block or throw outside its promise.
   */
  inProcess?: boolean;
  /**
   * `input` is the node's resolved input array. Throws ValidationError for bad input, any other
   * error for a failed run; resolves to the task's result (JSON-serializable).
   */
  run(input: unknown[], ctx: BuiltinContext): Promise<unknown>;
}
